package io.twinfleet.service.quality;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.twinfleet.persistence.readmodel.QualityRepository;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceTwin;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.Handler;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;

/**
 * The projection that keeps the fleet quality read models: it reads the device tags (one instance
 * per projection slice, as a sharded daemon process) into each slice's {@link QualityReadModel},
 * at least once, offsets in Cassandra.
 */
public final class FleetQuality {

  public static final String NAME = "fleet-quality-1";

  private static final int GROUP_SIZE = 200;
  private static final Duration GROUP_WITHIN = Duration.ofMillis(200);

  private FleetQuality() {}

  public static void init(ActorSystem<?> system, DeviceSettings devices, QualityRepository repository) {
    ObjectMapper json = JacksonObjectMapperProvider.get(system).getOrCreate("jackson-json", Optional.empty());
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        NAME,
        devices.projectionTags(),
        i -> ProjectionBehavior.create(CassandraProjection.groupedWithin(ProjectionId.of(NAME, DeviceTwin.deviceTag(i)),
                EventSourcedProvider.<DeviceTwin.Event>eventsByTag(system, CassandraReadJournal.Identifier(), DeviceTwin.deviceTag(i)),
                () -> new SliceHandler(new QualityReadModel(repository, i, json)))
            .withGroup(GROUP_SIZE, GROUP_WITHIN)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  /** Made anew on every (re)start of a slice's projection, which loads the slice then. */
  private static final class SliceHandler extends Handler<List<EventEnvelope<DeviceTwin.Event>>> {
    private final QualityReadModel model;

    SliceHandler(QualityReadModel model) {
      this.model = model;
    }

    @Override
    public CompletionStage<Done> start() {
      return model.start().thenApply(done -> Done.getInstance());
    }

    @Override
    public CompletionStage<Done> process(List<EventEnvelope<DeviceTwin.Event>> group) {
      return model.process(group).thenApply(done -> Done.getInstance());
    }
  }
}
