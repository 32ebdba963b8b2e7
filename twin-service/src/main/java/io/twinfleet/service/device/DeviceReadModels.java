package io.twinfleet.service.device;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.JourneyRepository;
import io.twinfleet.persistence.readmodel.StageMilestonesRepository;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.journey.JourneyReadModel;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.GroupedProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;

/**
 * The projection that keeps the device read models: device events are tagged into {@code
 * projection-tags} slices ({@link DeviceTwin#tagFor}); one projection instance per slice runs
 * somewhere in the cluster (sharded daemon process), reads its tag once for every read model, and
 * stores its offset in Cassandra after the handler's idempotent writes (at least once).
 */
public final class DeviceReadModels {

  /**
   * The number goes up when a read model needs the whole history: the projection then reads every
   * event once more under the new name (idempotently) and the old offsets are left unused.
   */
  public static final String NAME = "device-read-models-2";

  private DeviceReadModels() {}

  /** Events per group: one offset write, one funnel write and parallel row writes per group. */
  private static final int GROUP_SIZE = 200;
  private static final Duration GROUP_WITHIN = Duration.ofMillis(200);

  public static void init(ActorSystem<?> system, DeviceSettings settings, CustomerDevicesRepository customers,
      StageMilestonesRepository milestones, JourneyRepository journeys, ServiceClock clock) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Consumer<String> wake = deviceId -> DeviceTwin.reconcile(sharding, deviceId);
    int tags = settings.projectionTags();
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        NAME,
        tags,
        i -> ProjectionBehavior.create(projection(system, settings, DeviceTwin.deviceTag(i), customers, milestones, journeys, clock, wake)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  /** A projection of one device tag into the handler, at least once, in groups, offsets in Cassandra. */
  static GroupedProjection<Offset, EventEnvelope<DeviceTwin.Event>> projection(
      ActorSystem<?> system, DeviceSettings settings, String tag, CustomerDevicesRepository customers, StageMilestonesRepository milestones,
      JourneyRepository journeys, ServiceClock clock, Consumer<String> wake) {
    SourceProvider<Offset, EventEnvelope<DeviceTwin.Event>> source =
        EventSourcedProvider.eventsByTag(system, CassandraReadJournal.Identifier(), tag);
    ObjectMapper json = JacksonObjectMapperProvider.get(system).getOrCreate("jackson-json", Optional.empty());
    // The handler is made anew on every (re)start of the projection, and loads its slice then.
    return CassandraProjection.groupedWithin(ProjectionId.of(NAME, tag), source,
            () -> new DeviceReadModelsHandler(customers, milestones, clock, wake, settings,
                schedule -> new JourneyReadModel(journeys, DeviceTwin.sliceOfTag(tag), json, settings.lifetimes(), schedule)))
        .withGroup(GROUP_SIZE, GROUP_WITHIN);
  }
}
