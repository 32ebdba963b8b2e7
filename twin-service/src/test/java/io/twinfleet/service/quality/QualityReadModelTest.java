package io.twinfleet.service.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.twinfleet.persistence.readmodel.QualityRepository;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.*;
import io.twinfleet.service.device.Stage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The quality read model against Cassandra: groups delivered again, by a restarted slice, count once. */
@ExtendWith(CassandraExtension.class)
class QualityReadModelTest {

  private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();
  private static QualityRepository repository;

  @BeforeAll
  static void repository(TestKeyspace ks) {
    repository = new QualityRepository(ks.session(), ks.keyspace());
  }

  private final Map<String, Long> seqNrs = new HashMap<>();
  private final List<EventEnvelope<DeviceTwin.Event>> group = new ArrayList<>();

  private void add(String id, DeviceTwin.Event e) {
    long seqNr = seqNrs.merge(id, 1L, Long::sum);
    group.add(EventEnvelope.create(Offset.sequence(group.size()), PersistenceId.of("Device", id).id(), seqNr, e, 0L));
  }

  private List<EventEnvelope<DeviceTwin.Event>> take() {
    List<EventEnvelope<DeviceTwin.Event>> taken = List.copyOf(group);
    group.clear();
    return taken;
  }

  private static <T> T join(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static QualityReadModel started(int slice) throws Exception {
    QualityReadModel m = new QualityReadModel(repository, slice, JSON);
    join(m.start());
    return m;
  }

  @Test
  void aGroupDeliveredAgainToARestartedSliceChangesNothing() throws Exception {
    int slice = 7;
    for (String id : List.of("qa", "qb")) {
      add(id, new DeviceRegistered("lock", "SN", Duration.ofMinutes(5), "1.0", T0));
      add(id, new CameOnline(T0));
      add(id, new DeviceActivated(T0));
      add(id, new StageChanged(Stage.ONBOARDING, Stage.DAY_30, T0));
    }
    add("qa", new WentOffline(T0.plus(Duration.ofMinutes(30))));
    List<EventEnvelope<DeviceTwin.Event>> first = take();
    join(started(slice).process(first));
    add("qa", new CameOnline(T0.plus(Duration.ofMinutes(90))));
    List<EventEnvelope<DeviceTwin.Event>> second = take();

    QualityReadModel restarted = started(slice);
    join(restarted.process(first));
    join(restarted.process(second));
    join(started(slice).process(second));

    QualityQueries queries = new QualityQueries(repository, 8);
    Instant now = T0.plus(Duration.ofHours(3));
    QualityQueries.Fleet fleet = join(queries.fleet(Duration.ofHours(3), now));
    assertEquals(2, fleet.active());
    assertEquals(2, fleet.online());
    assertEquals(Duration.ofHours(6).toMillis(), fleet.figures().lifeMillis(), "two devices, three hours each");
    assertEquals(Duration.ofHours(1).toMillis(), fleet.figures().offlineMillis(), "qa's hour off line, once");
    QualityQueries.Breakdown firmware = join(queries.breakdown(QualityDimension.FIRMWARE, Duration.ofHours(3), now));
    assertEquals(List.of("1.0"), firmware.shares().stream().map(QualityQueries.Share::value).toList());
    assertEquals(1.0, firmware.shares().get(0).share(), 1e-12);
  }
}
