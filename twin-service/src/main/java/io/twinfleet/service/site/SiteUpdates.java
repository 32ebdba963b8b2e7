package io.twinfleet.service.site;

import io.twinfleet.persistence.readmodel.SitesRepository;
import io.twinfleet.service.Asks;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.site.SiteTwin.Rejected;
import io.twinfleet.service.site.SiteTwin.Reply;
import io.twinfleet.service.site.SiteTwin.Listed;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.GroupedProjection;

/**
 * The projection that feeds sites: it reads the device tags (one instance per projection slice, as
 * a sharded daemon process) and hands each group's events to their sites through {@link
 * SiteUpdatesHandler}, at least once, offsets in Cassandra.
 */
public final class SiteUpdates {

  public static final String NAME = "site-updates-1";

  /** Events per group: at most one ask per site per group. */
  private static final int GROUP_SIZE = 200;
  private static final Duration GROUP_WITHIN = Duration.ofMillis(200);
  /** How long a site may take to store a batch before the group fails and is delivered again. */
  private static final Duration APPLY_TIMEOUT = Duration.ofSeconds(10);

  private SiteUpdates() {}

  public static void init(ActorSystem<?> system, DeviceSettings devices, SitesRepository repository) {
    Asks asks = new Asks(system, APPLY_TIMEOUT);
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    // Once the node is stopping, the Site shard region drops what it is sent while it hands off,
    // and a group waiting on its asks would keep this projection, and with it the node's stop,
    // waiting for the hand-off's whole timeout: the group fails at once instead, and is delivered
    // again after the restart (its offset is not stored; site updates are idempotent).
    BiFunction<String, List<DeviceChange>, CompletionStage<Listed>> apply = (siteId, changes) -> shutdown.getShutdownReason().isPresent()
        ? CompletableFuture.failedFuture(new IllegalStateException("the node is stopping; these changes reach site " + siteId + " after it starts again"))
        : asks.<SiteTwin.Command, Reply>ask(SiteTwin.ENTITY_KEY, siteId, replyTo -> new SiteTwin.Apply(changes, replyTo))
            .thenApply(SiteUpdates::listed);
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        NAME,
        devices.projectionTags(),
        i -> ProjectionBehavior.create(projection(system, DeviceTwin.deviceTag(i), repository, apply)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  static GroupedProjection<Offset, EventEnvelope<DeviceTwin.Event>> projection(ActorSystem<?> system, String tag,
      SitesRepository repository, BiFunction<String, List<DeviceChange>, CompletionStage<Listed>> apply) {
    return CassandraProjection.groupedWithin(ProjectionId.of(NAME, tag),
            EventSourcedProvider.<DeviceTwin.Event>eventsByTag(system, CassandraReadJournal.Identifier(), tag),
            () -> new SiteUpdatesHandler(repository, apply))
        .withGroup(GROUP_SIZE, GROUP_WITHIN);
  }

  private static Listed listed(Reply reply) {
    if (reply instanceof Listed s) {
      return s;
    }
    throw new IllegalStateException("a site refused its devices' changes: " + ((Rejected) reply).message());
  }
}
