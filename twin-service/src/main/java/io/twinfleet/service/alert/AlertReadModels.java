package io.twinfleet.service.alert;

import io.twinfleet.persistence.readmodel.AlertsRepository;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceGroups;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.AlertEvent;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
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
import org.apache.pekko.projection.javadsl.Handler;

/**
 * The projection that keeps the alert read models ({@link AlertRows}): it reads the alert tags,
 * which alert events carry and nothing else (one instance per projection slice, as a sharded daemon
 * process), at least once, offsets in Cassandra. Alert events carry no device tag, so the other
 * projections read no new ones (those stored before also carry it, and they pass them over).
 */
public final class AlertReadModels {

  public static final String NAME = "alert-read-models-1";

  private static final int GROUP_SIZE = 200;
  private static final Duration GROUP_WITHIN = Duration.ofMillis(200);

  private AlertReadModels() {}

  public static void init(ActorSystem<?> system, DeviceSettings settings, AlertsRepository alerts) {
    AlertRows rows = new AlertRows(alerts, settings.alerts().keepResolved());
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        NAME,
        settings.projectionTags(),
        i -> ProjectionBehavior.create(projection(system, DeviceTwin.alertTag(i), rows)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  static GroupedProjection<Offset, EventEnvelope<DeviceTwin.Event>> projection(ActorSystem<?> system, String tag, AlertRows rows) {
    return CassandraProjection.groupedWithin(ProjectionId.of(NAME, tag),
            EventSourcedProvider.<DeviceTwin.Event>eventsByTag(system, CassandraReadJournal.Identifier(), tag),
            () -> new RowsHandler(rows))
        .withGroup(GROUP_SIZE, GROUP_WITHIN);
  }

  /**
   * Stores each alert event's row: one device's in order (each write carries its event's sequence
   * number, but a move deletes where the alert was listed), different devices' at once.
   */
  static final class RowsHandler extends Handler<List<EventEnvelope<DeviceTwin.Event>>> {
    private final AlertRows rows;

    RowsHandler(AlertRows rows) {
      this.rows = rows;
    }

    @Override
    public CompletionStage<Done> process(List<EventEnvelope<DeviceTwin.Event>> group) {
      return DeviceGroups.inOrderPerDevice(group, (deviceId, e) -> e.event() instanceof AlertEvent a
          ? rows.apply(deviceId, a, e.sequenceNr())
          : CompletableFuture.completedFuture(null)).thenApply(done -> Done.getInstance());
    }
  }
}
