package io.twinfleet.service.device;

import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.StageMilestonesRepository;
import io.twinfleet.service.ServiceClock;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.AtLeastOnceProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;

/**
 * The projection that keeps the device read models: device events are tagged into {@code
 * projection-tags} slices ({@link DeviceTwin#tagFor}); one projection instance per slice runs
 * somewhere in the cluster (sharded daemon process), reads its tag once for every read model, and
 * stores its offset in Cassandra after the handler's idempotent writes (at least once).
 */
public final class DeviceReadModels {

  public static final String NAME = "device-read-models";

  private DeviceReadModels() {}

  public static void init(ActorSystem<?> system, DeviceSettings settings, CustomerDevicesRepository customers,
      StageMilestonesRepository milestones, ServiceClock clock) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Consumer<String> wake = deviceId -> DeviceTwin.reconcile(sharding, deviceId);
    int tags = settings.projectionTags();
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        NAME,
        tags,
        i -> ProjectionBehavior.create(projection(system, "device-" + i, customers, milestones, clock, wake)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  /** A projection of one device tag into a handler, at least once, offsets in Cassandra. */
  static AtLeastOnceProjection<Offset, EventEnvelope<DeviceTwin.Event>> projection(
      ActorSystem<?> system, String tag, CustomerDevicesRepository customers, StageMilestonesRepository milestones,
      ServiceClock clock, Consumer<String> wake) {
    SourceProvider<Offset, EventEnvelope<DeviceTwin.Event>> source =
        EventSourcedProvider.eventsByTag(system, CassandraReadJournal.Identifier(), tag);
    return CassandraProjection.atLeastOnce(ProjectionId.of(NAME, tag), source, () -> new DeviceReadModelsHandler(customers, milestones, clock, wake));
  }
}
