package io.twinfleet.service.site;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.persistence.readmodel.SitesRepository;
import io.twinfleet.persistence.readmodel.SitesRepository.Route;
import io.twinfleet.persistence.readmodel.SitesRepository.SiteRow;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.CameOnline;
import io.twinfleet.service.device.DeviceTwin.DeviceActivated;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import io.twinfleet.service.device.DeviceTwin.SiteStatus;
import io.twinfleet.service.device.DeviceTwin.UsageStarted;
import io.twinfleet.service.device.DeviceTwin.WentOffline;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.site.SiteState.Counts;
import io.twinfleet.service.site.SiteTwin.Listed;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The site-updates handler against Cassandra, with sites as plain {@link SiteState}s: what reaches
 * which site, and that groups delivered again, or failed halfway, leave every site as if each event
 * had arrived once.
 */
@ExtendWith(CassandraExtension.class)
class SiteUpdatesTest {

  private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
  private static SitesRepository repository;

  @BeforeAll
  static void repository(TestKeyspace ks) {
    repository = new SitesRepository(ks.session(), ks.keyspace());
  }

  /** Sites in memory, applying batches as the entity does; a site named in {@code failing} fails its next batch. */
  private static final class Sites {
    final Map<String, SiteState> states = new HashMap<>();
    final Map<String, Long> seqNrs = new HashMap<>();
    final List<DeviceChange> applied = new ArrayList<>();
    final Set<String> failing = new java.util.HashSet<>();

    CompletionStage<Listed> apply(String siteId, List<DeviceChange> changes) {
      if (failing.remove(siteId)) {
        return CompletableFuture.failedFuture(new IllegalStateException("site " + siteId + " did not answer"));
      }
      SiteState s = states.getOrDefault(siteId, SiteState.EMPTY);
      boolean any = false;
      for (DeviceChange c : changes) {
        if (s.isNew(c)) {
          s = s.applied(c, SiteSettings.defaults().reorderWindow());
          applied.add(c);
          any = true;
        }
      }
      states.put(siteId, s);
      long seqNr = seqNrs.merge(siteId, any ? 1L : 0L, Long::sum);
      return CompletableFuture.completedFuture(new Listed(SiteView.of(siteId, s, T0.plus(Duration.ofHours(1)), SiteSettings.defaults()).row(), seqNr));
    }

    Counts counts(String siteId) {
      return states.get(siteId).counts();
    }
  }

  /** Envelopes with each device's own sequence numbers. */
  private static final class Events {
    private final Map<String, Long> seqNrs = new HashMap<>();
    private final List<EventEnvelope<DeviceTwin.Event>> group = new ArrayList<>();

    Events add(String deviceId, DeviceTwin.Event event) {
      long seqNr = seqNrs.merge(deviceId, 1L, Long::sum);
      group.add(EventEnvelope.create(Offset.sequence(group.size()), PersistenceId.of("Device", deviceId).id(), seqNr, event, 0L));
      return this;
    }

    Events activated(String deviceId, String siteId, int minute) {
      Instant at = T0.plus(Duration.ofMinutes(minute));
      return add(deviceId, new DeviceClaimed("cust", siteId, "charger", SiteStatus.UNSEEN, at))
          .add(deviceId, new CameOnline(at.plusSeconds(30)))
          .add(deviceId, new DeviceActivated(at.plusSeconds(30)));
    }

    List<EventEnvelope<DeviceTwin.Event>> take() {
      List<EventEnvelope<DeviceTwin.Event>> taken = List.copyOf(group);
      group.clear();
      return taken;
    }
  }

  private static <T> T join(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void eachSiteGetsItsDevicesChangesOnceWhateverIsDeliveredAgain() throws Exception {
    Sites sites = new Sites();
    Events events = new Events()
        .activated("u1-c1", "u1-park", 0)
        .activated("u1-c2", "u1-park", 0)
        .add("u1-loose", new CameOnline(T0)); // registered, not claimed: no site
    List<EventEnvelope<DeviceTwin.Event>> first = events.take();
    join(new SiteUpdatesHandler(repository, sites::apply).process(first));
    assertEquals(new Counts(2, 2, 2, 2, 0), sites.counts("u1-park"));
    assertEquals(Set.of("u1-park"), sites.states.keySet());
    assertEquals(6, sites.applied.size());
    assertEquals(Map.of("u1-c1", new Route("u1-park", 1), "u1-c2", new Route("u1-park", 1)),
        join(repository.routes(List.of("u1-c1", "u1-c2", "u1-loose"))));

    // A restarted projection (no cache) gets the group again, then the next one.
    SiteUpdatesHandler restarted = new SiteUpdatesHandler(repository, sites::apply);
    join(restarted.process(first));
    assertEquals(6, sites.applied.size(), "nothing applied twice");
    events.add("u1-c1", new UsageStarted(T0.plus(Duration.ofMinutes(5))));
    join(restarted.process(events.take()));
    assertEquals(new Counts(2, 2, 2, 1, 1), sites.counts("u1-park"));

    SiteRow row = join(repository.page(SitesRepository.bucketOf("u1-park"), "u1-park".substring(0, 2), 500)).stream()
        .filter(r -> r.siteId().equals("u1-park")).findFirst().orElseThrow();
    assertEquals(1, row.free());
    assertEquals(1, row.inUse());
  }

  @Test
  void aMoveTakesTheDeviceAndItsStatusAlongAndLaterEventsFollowIt() throws Exception {
    Sites sites = new Sites();
    Events events = new Events().activated("u2-d", "u2-home", 0);
    join(new SiteUpdatesHandler(repository, sites::apply).process(events.take()));
    SiteStatus status = new SiteStatus(true, true, true, List.of());
    events.add("u2-d", new DeviceMoved("cust", "u2-home", "u2-cabin", status, T0.plus(Duration.ofMinutes(10))))
        .add("u2-d", new WentOffline(T0.plus(Duration.ofMinutes(20))));
    List<EventEnvelope<DeviceTwin.Event>> move = events.take();
    sites.failing.add("u2-cabin");
    SiteUpdatesHandler handler = new SiteUpdatesHandler(repository, sites::apply);
    assertThrows(Exception.class, () -> join(handler.process(move)), "the new site did not answer: the group fails");
    assertEquals(new Counts(0, 0, 0, 0, 0), sites.counts("u2-home"), "the old site let it go");
    assertEquals(new Route("u2-home", 1), join(repository.routes(List.of("u2-d"))).get("u2-d"), "route kept until every site has it");

    // Delivered again, as the projection does after a failed group, by a restarted handler.
    join(new SiteUpdatesHandler(repository, sites::apply).process(move));
    assertEquals(new Counts(0, 0, 0, 0, 0), sites.counts("u2-home"));
    assertEquals(new Counts(1, 1, 0, 0, 1), sites.counts("u2-cabin"), "joined online and in use, then went offline");
    assertEquals(new Route("u2-cabin", 4), join(repository.routes(List.of("u2-d"))).get("u2-d"));
  }

  @Test
  void aSummaryOlderThanTheStoredOneDoesNotReplaceIt() throws Exception {
    SiteRow newer = new SiteRow("u3-site", 2, 2, 1, 0, 1, T0, "2026-11", 1000, 10, 0.99, T0);
    SiteRow older = new SiteRow("u3-site", 2, 2, 2, 2, 0, T0, "2026-11", 900, 10, 0.99, T0);
    join(repository.store(newer, 7));
    join(repository.store(older, 6));
    assertEquals(List.of(newer), join(repository.page(SitesRepository.bucketOf("u3-site"), "u3-sitd", 1)));
  }

  @Test
  void listsPageThroughEverySiteOnceAndFilterByTheRows() throws Exception {
    Instant now = T0.plus(Duration.ofHours(1));
    List<String> all = new ArrayList<>();
    List<String> down = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String id = "u4-s" + i;
      boolean isDown = i % 3 == 0;
      // in service; down ones since as_of with no free device; month counted 1 h with 0 down so far
      join(repository.store(new SiteRow(id, 1, 1, isDown ? 0 : 1, isDown ? 0 : 1, 0, T0, "2026-11", 3_600_000, 0, 0.99, T0), 1));
      all.add(id);
      if (isDown) {
        down.add(id);
      }
    }
    SiteQueries queries = new SiteQueries(repository, 5);
    assertEquals(Set.copyOf(all), Set.copyOf(listAll(queries, new SiteQueries.Filter(false, false), now)).stream()
        .filter(id -> id.startsWith("u4-")).collect(java.util.stream.Collectors.toSet()));
    List<String> unavailable = listAll(queries, new SiteQueries.Filter(true, false), now).stream().filter(id -> id.startsWith("u4-")).toList();
    assertEquals(Set.copyOf(down), Set.copyOf(unavailable));
    // down for the last hour of two: 50% this month, below 99%; the others are not
    List<String> belowSla = listAll(queries, new SiteQueries.Filter(false, true), now).stream().filter(id -> id.startsWith("u4-")).toList();
    assertEquals(Set.copyOf(down), Set.copyOf(belowSla));

    String token = join(queries.list(new SiteQueries.Filter(true, false), now, 1, "")).nextToken();
    InvalidField e = assertThrows(InvalidField.class, () -> queries.list(new SiteQueries.Filter(false, false), now, 1, token));
    assertTrue(e.getMessage().contains("page_token"), e.getMessage());
  }

  private static List<String> listAll(SiteQueries queries, SiteQueries.Filter filter, Instant now) throws Exception {
    List<String> ids = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      SiteQueries.Page page = join(queries.list(filter, now, 2, token));
      assertTrue(page.siteIds().size() <= 2);
      for (String id : page.siteIds()) {
        assertTrue(!ids.contains(id), "listed twice: " + id);
        ids.add(id);
      }
      token = page.nextToken() == null ? "" : page.nextToken();
    } while (!token.isEmpty() && ++pages < 500);
    return ids;
  }
}
