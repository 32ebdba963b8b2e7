package io.twinfleet.service.site;

import io.twinfleet.persistence.readmodel.SitesRepository;
import io.twinfleet.persistence.readmodel.SitesRepository.Route;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import io.twinfleet.service.site.SiteTwin.Listed;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.Done;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * Hands groups of device events to the devices' sites, one {@link SiteTwin.Apply} per site per group,
 * then stores the sites' rows (the {@code sites} read model) and where each claimed or moved
 * device now belongs ({@code device_sites}).
 *
 * <p>Nothing is lost or counted twice, whatever is delivered again: a site ignores a device's
 * changes numbered at or below the last it applied, and a route is stored only after every earlier
 * event of its device reached its site, so an event numbered below its device's route has.
 */
final class SiteUpdatesHandler extends Handler<List<EventEnvelope<DeviceTwin.Event>>> {

  /** Routes remembered per slice; beyond this the least recently used are read again when needed. */
  static final int CACHED_ROUTES = 100_000;

  /** A device seen with no route: not claimed, so its events go to no site. */
  private static final Route NONE = new Route(null, 0);

  private final SitesRepository repository;
  private final BiFunction<String, List<DeviceChange>, CompletionStage<Listed>> apply;
  private final Map<String, Route> routes = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Route> eldest) {
      return size() > CACHED_ROUTES;
    }
  };

  /** {@code apply} hands a site a batch of its devices' changes and returns its row in the site list. */
  SiteUpdatesHandler(SitesRepository repository, BiFunction<String, List<DeviceChange>, CompletionStage<Listed>> apply) {
    this.repository = repository;
    this.apply = apply;
  }

  @Override
  public CompletionStage<Done> process(List<EventEnvelope<DeviceTwin.Event>> group) {
    Set<String> unknown = new HashSet<>();
    for (EventEnvelope<DeviceTwin.Event> e : group) {
      String id = PersistenceId.extractEntityId(e.persistenceId());
      if (!routes.containsKey(id)) {
        unknown.add(id);
      }
    }
    CompletionStage<Map<String, Route>> loaded = unknown.isEmpty()
        ? CompletableFuture.completedFuture(Map.of())
        : repository.routes(unknown);
    return loaded.thenCompose(found -> {
      for (String id : unknown) {
        routes.put(id, found.getOrDefault(id, NONE));
      }
      Map<String, Route> moved = new HashMap<>();
      Map<String, List<DeviceChange>> bySite = changesBySite(group, moved);
      return applyAll(bySite)
          .thenCompose(done -> repository.route(moved))
          .thenApply(done -> {
            routes.putAll(moved);
            return Done.getInstance();
          });
    });
  }

  /** The group's changes per site, in order; the routes that claims and moves in it set go into {@code moved}. */
  private Map<String, List<DeviceChange>> changesBySite(List<EventEnvelope<DeviceTwin.Event>> group, Map<String, Route> moved) {
    Map<String, List<DeviceChange>> bySite = new LinkedHashMap<>();
    for (EventEnvelope<DeviceTwin.Event> e : group) {
      String id = PersistenceId.extractEntityId(e.persistenceId());
      long seqNr = e.sequenceNr();
      Route route = moved.containsKey(id) ? moved.get(id) : routes.get(id);
      if (route != NONE && seqNr <= route.seqNr()) {
        continue; // reached its site before the route was stored
      }
      if (e.event() instanceof DeviceClaimed c) {
        add(bySite, c.siteId(), DeviceChange.joined(id, seqNr, c.status(), c.at()));
        moved.put(id, new Route(c.siteId(), seqNr));
      } else if (e.event() instanceof DeviceMoved m) {
        add(bySite, m.fromSiteId(), DeviceChange.left(id, seqNr, m.at()));
        add(bySite, m.toSiteId(), DeviceChange.joined(id, seqNr, m.status(), m.at()));
        moved.put(id, new Route(m.toSiteId(), seqNr));
      } else if (route != NONE) {
        DeviceChange change = DeviceChange.of(id, seqNr, e.event());
        if (change != null) {
          add(bySite, route.siteId(), change);
        }
      }
    }
    return bySite;
  }

  private static void add(Map<String, List<DeviceChange>> bySite, String siteId, DeviceChange change) {
    bySite.computeIfAbsent(siteId, s -> new ArrayList<>()).add(change);
  }

  /** Every site's batch at once; then each site's row stored. */
  private CompletionStage<Void> applyAll(Map<String, List<DeviceChange>> bySite) {
    CompletableFuture<?>[] sites = bySite.entrySet().stream()
        .map(b -> apply.apply(b.getKey(), b.getValue())
            .thenCompose(listed -> repository.store(listed.row(), listed.seqNr()))
            .toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(sites);
  }
}
