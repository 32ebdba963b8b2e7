package io.twinfleet.service.journey;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.JourneyRepository;
import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.service.device.ChurnRisk;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.ChurnRiskChanged;
import io.twinfleet.service.device.Lifetimes;
import java.util.concurrent.CompletableFuture;
import io.twinfleet.service.device.DeviceTwin.DeviceActivated;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import io.twinfleet.service.device.DeviceTwin.SiteStatus;
import io.twinfleet.service.device.DeviceTwin.StageChanged;
import io.twinfleet.service.device.Stage;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.journey.JourneyQueries.Filter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The journey read model against a real Cassandra: groups of device events make device rows, stage
 * and site listings and exact funnel counts; groups delivered again, and a slice that stopped
 * between its two writes, count nothing twice. Each test uses its own slice and device ids.
 */
@ExtendWith(CassandraExtension.class)
class JourneyReadModelTest {

  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

  private static JourneyRepository journeys;
  private static CustomerDevicesRepository customers;

  @BeforeAll
  static void repositories(TestKeyspace ks) {
    journeys = new JourneyRepository(ks.session(), ks.keyspace());
    customers = new CustomerDevicesRepository(ks.session(), ks.keyspace());
  }

  /** Builds groups of envelopes with each device's own sequence numbers. */
  private static final class Events {
    private final Map<String, Long> seqNrs = new HashMap<>();
    private final List<EventEnvelope<DeviceTwin.Event>> group = new ArrayList<>();

    Events add(String deviceId, DeviceTwin.Event event) {
      long seqNr = seqNrs.merge(deviceId, 1L, Long::sum);
      String pid = PersistenceId.of(DeviceTwin.ENTITY_KEY.name(), deviceId).id();
      group.add(EventEnvelope.create(Offset.sequence(group.size()), pid, seqNr, event, 0L));
      return this;
    }

    /** Claim (stage ONBOARDING) and, if {@code activatedAfter} is not null, activation (DAY_30). */
    Events claimed(String deviceId, String customer, String site, String model, Duration activatedAfter) {
      add(deviceId, new DeviceTwin.DeviceRegistered(model, "SN", Duration.ofMinutes(5), "1.0", T0));
      add(deviceId, new DeviceClaimed(customer, site, model, SiteStatus.UNSEEN, T0));
      add(deviceId, new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, T0));
      customers.claimed(customer, deviceId, site, model, T0).toCompletableFuture().join();
      if (activatedAfter != null) {
        add(deviceId, new DeviceActivated(T0.plus(activatedAfter)));
        add(deviceId, new StageChanged(Stage.ONBOARDING, Stage.DAY_30, T0.plus(activatedAfter)));
      }
      return this;
    }

    List<EventEnvelope<DeviceTwin.Event>> take() {
      List<EventEnvelope<DeviceTwin.Event>> taken = List.copyOf(group);
      group.clear();
      return taken;
    }
  }

  private static <T> T join(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static JourneyReadModel started(int slice) throws Exception {
    JourneyReadModel model = new JourneyReadModel(journeys, slice, JSON, Lifetimes.NONE, (id, due) -> CompletableFuture.completedFuture(null));
    join(model.start());
    return model;
  }

  /** The stored row of a device, which must have one. */
  private static JourneyRow row(String deviceId) throws Exception {
    JourneyRow row = join(journeys.rows(List.of(deviceId))).get(deviceId);
    assertNotNull(row, "no row for " + deviceId);
    return row;
  }

  private static StageFunnel sliceFunnel(int slice) throws Exception {
    return StageFunnel.of(join(journeys.funnelSlice(slice)));
  }

  /** Pages through a listing into {@code into}; returns the number of pages. */
  private static int all(JourneyQueries queries, Filter filter, int pageSize, List<String> into) throws Exception {
    int pages = 0;
    String token = "";
    do {
      JourneyQueries.Page page = join(queries.list(filter, pageSize, token));
      assertTrue(page.rows().size() <= pageSize);
      into.addAll(ids(page.rows()));
      token = page.nextToken() == null ? "" : page.nextToken();
      pages++;
    } while (!token.isEmpty() && pages < 200);
    return pages;
  }

  private static List<String> ids(List<JourneyRow> rows) {
    return rows.stream().map(JourneyRow::deviceId).toList();
  }

  @Test
  void groupsBuildRowsListingsAndCountsThatReplaysLeaveAlone() throws Exception {
    JourneyReadModel model = started(0);
    Events events = new Events()
        .claimed("a-1", "cust-a", "site-a", "lock", Duration.ofHours(2))
        .claimed("a-2", "cust-a", "site-a", "lock", null)
        .claimed("a-3", "cust-b", "site-b", "camera", Duration.ofMinutes(30));
    List<EventEnvelope<DeviceTwin.Event>> first = events.take();
    join(model.process(first));
    events.add("a-1", new StageChanged(Stage.DAY_30, Stage.DAY_60, T0.plus(Duration.ofDays(30))));
    // a-1's sequence numbers go on from the first group's
    List<EventEnvelope<DeviceTwin.Event>> second = events.take();
    second = List.of(EventEnvelope.create(Offset.sequence(9), second.get(0).persistenceId(), 6, second.get(0).event(), 0L),
        EventEnvelope.create(Offset.sequence(10), PersistenceId.of("Device", "a-3").id(), 6,
            new DeviceMoved("cust-b", "site-b", "site-c", SiteStatus.UNSEEN, T0), 0L));
    join(model.process(second));
    join(model.process(first)); // delivered again after a restart: at least once
    join(model.process(second));

    StageFunnel funnel = sliceFunnel(0);
    assertEquals(List.of(1L, 1L, 1L), List.of(funnel.devices(Stage.ONBOARDING), funnel.devices(Stage.DAY_30), funnel.devices(Stage.DAY_60)));
    StageFunnel.Activation camera = funnel.activations().iterator().next();
    assertEquals("camera", camera.model());
    assertEquals(1, camera.seconds().getTotalCount());

    JourneyRow a1 = row("a-1");
    assertEquals("DAY_60", a1.stage());
    assertEquals(T0.plus(Duration.ofHours(2)), a1.activatedAt());
    assertEquals(List.of("a-1"), ids(join(journeys.stagePage("DAY_60", JourneyRepository.bucketOf("a-1"), "", 10))));
    assertEquals(List.of(), ids(join(journeys.stagePage("DAY_30", JourneyRepository.bucketOf("a-1"), "", 10))).stream()
        .filter("a-1"::equals).toList(), "no longer listed under its old stage");
    assertEquals(List.of("a-3"), ids(join(journeys.sitePage("site-c", "", 10))));
    assertEquals(List.of(), ids(join(journeys.sitePage("site-b", "", 10))), "moved away");
  }

  @Test
  void aSliceThatStoppedBetweenItsTwoWritesFinishesTheRowsAndCountsNothingTwice() throws Exception {
    JourneyReadModel model = started(1);
    Events events = new Events().claimed("b-1", "cust-c", "site-d", "lock", null);
    join(model.process(events.take()));
    JourneyRow onboarding = row("b-1");
    List<EventEnvelope<DeviceTwin.Event>> activation = List.of(
        EventEnvelope.create(Offset.sequence(20), onboarding(onboarding), 4, new DeviceActivated(T0.plusSeconds(90)), 0L),
        EventEnvelope.create(Offset.sequence(21), onboarding(onboarding), 5, new StageChanged(Stage.ONBOARDING, Stage.DAY_30, T0.plusSeconds(90)), 0L));
    join(model.process(activation));
    JourneyRow day30 = row("b-1");
    assertEquals("DAY_30", day30.stage());

    // As if the node died after the funnel write and before the rows: put the rows back as they were.
    join(journeys.store(day30, onboarding));
    assertEquals("ONBOARDING", row("b-1").stage());

    JourneyReadModel restarted = started(1);
    assertEquals(day30, row("b-1"), "the rows written with the funnel are written again");
    join(restarted.process(activation)); // the projection's offset was behind: delivered again
    StageFunnel funnel = sliceFunnel(1);
    assertEquals(0, funnel.devices(Stage.ONBOARDING));
    assertEquals(1, funnel.devices(Stage.DAY_30));
    assertEquals(1, funnel.activations().iterator().next().seconds().getTotalCount());
  }

  private static String onboarding(JourneyRow row) {
    return PersistenceId.of(DeviceTwin.ENTITY_KEY.name(), row.deviceId()).id();
  }

  @Test
  void listsPageInAStableOrderWithFiltersAndShortPagesWhenAFilterMatchesFew() throws Exception {
    JourneyReadModel model = started(2);
    Events events = new Events();
    List<String> locks = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      String id = "c-" + i;
      String deviceModel = i % 3 == 0 ? "lock-c" : "thermostat-c";
      events.claimed(id, "cust-" + (i % 2), "site-" + (i % 4), deviceModel, i % 2 == 0 ? Duration.ofMinutes(i) : null);
      if (deviceModel.equals("lock-c")) {
        locks.add(id);
      }
    }
    join(model.process(events.take()));
    JourneyQueries queries = new JourneyQueries(journeys, customers, 4, 5);

    List<String> allLocks = new ArrayList<>();
    Filter lockFilter = new Filter(null, null, null, "lock-c"); // other tests' devices are other models
    int pages = all(queries, lockFilter, 3, allLocks);
    assertEquals(locks.stream().sorted().toList(), allLocks.stream().sorted().toList(), "every lock once, across pages");
    assertEquals(allLocks.size(), allLocks.stream().distinct().count());
    assertTrue(pages > 3, "a scan budget of 5 rows makes short pages: " + pages);

    // by customer and stage; by site (in device id order)
    List<String> onboardingOfCust1 = new ArrayList<>();
    all(queries, new Filter(Stage.ONBOARDING, null, "cust-1", null), 50, onboardingOfCust1);
    assertEquals(12, onboardingOfCust1.size(), "odd devices are cust-1's and not activated");
    List<String> site2 = new ArrayList<>();
    all(queries, new Filter(null, "site-2", null, null), 2, site2);
    assertEquals(List.of("c-10", "c-14", "c-18", "c-2", "c-22", "c-6"), site2);

    StageFunnel ofCust0 = join(queries.funnel(new Filter(null, null, "cust-0", null)));
    assertEquals(12, ofCust0.devices(Stage.DAY_30));
    assertEquals(0, ofCust0.devices(Stage.ONBOARDING));

    String issued = join(queries.list(lockFilter, 1, "")).nextToken();
    assertNotNull(issued);
    assertThrows(InvalidField.class, () -> queries.list(new Filter(null, null, null, "camera"), 1, issued), "token of other filters");
    assertThrows(InvalidField.class, () -> queries.list(lockFilter, 1, "not-a-token"));
  }

  @Test
  void claimsAndActivationsPutTheEndOfLifeOnTheSchedule() throws Exception {
    Lifetimes lifetimes = new Lifetimes(Map.of(
        "lock-e", new Lifetimes.ModelLife(null, Duration.ofDays(100)),
        "camera-e", new Lifetimes.ModelLife(T0.plus(Duration.ofDays(500)), null)), null);
    Map<String, List<Instant>> scheduled = new java.util.concurrent.ConcurrentHashMap<>();
    JourneyReadModel model = new JourneyReadModel(journeys, 3, JSON, lifetimes, (id, due) -> {
      scheduled.merge(id, due, (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList());
      return CompletableFuture.completedFuture(null);
    });
    join(model.start());
    join(model.process(new Events()
        .claimed("e-1", "cust-e", "site-e", "lock-e", Duration.ofHours(1))
        .claimed("e-2", "cust-e", "site-e", "camera-e", null)
        .claimed("e-3", "cust-e", "site-e", "thermostat-e", Duration.ofHours(1))
        .take()));
    assertEquals(Map.of(
        "e-1", List.of(T0.plus(Duration.ofHours(1)).plus(Duration.ofDays(100))),
        "e-2", List.of(T0.plus(Duration.ofDays(500)))), scheduled, "a model without limits has nothing to schedule");
  }

  @Test
  void riskScoresListDevicesHighestFirstUnderTheirStageUntilTheyAreRetired() throws Exception {
    JourneyReadModel model = started(5);
    Events events = new Events()
        .claimed("r-1", "cust-r", "site-r", "lock-r", Duration.ofHours(1))
        .claimed("r-2", "cust-r", "site-r", "lock-r", Duration.ofHours(1))
        .claimed("r-3", "cust-r", "site-r", "lock-r", null);
    events.add("r-1", new ChurnRiskChanged(40, List.of(new ChurnRisk.Scored(ChurnRisk.Factor.UPTIME, 35, 0.93)), T0));
    events.add("r-2", new ChurnRiskChanged(70, List.of(new ChurnRisk.Scored(ChurnRisk.Factor.FAULTS, 20, 2)), T0));
    events.add("r-3", new ChurnRiskChanged(6, List.of(new ChurnRisk.Scored(ChurnRisk.Factor.STAGE, 6, 1)), T0));
    join(model.process(events.take()));
    JourneyQueries queries = new JourneyQueries(journeys, customers, 4);

    assertEquals(List.of("r-2", "r-1"), ids(join(queries.atRisk(Stage.DAY_30, 10, 10))));
    assertEquals(List.of("r-2", "r-1", "r-3"), ids(join(queries.atRisk(null, 0, 10))).stream().filter(id -> id.startsWith("r-")).toList());
    assertEquals(List.of("r-2"), ids(join(queries.atRisk(null, 50, 10))));
    assertEquals(List.of("r-2"), ids(join(queries.atRisk(Stage.DAY_30, 0, 1))), "limit");
    JourneyRow r2 = join(queries.atRisk(Stage.DAY_30, 50, 1)).get(0);
    assertEquals("FAULTS:20:2.0", r2.riskFactors());

    events.add("r-1", new DeviceActivated(T0)); // numbering only: r-1 has applied 5 events, this is its 6th
    events.take();
    join(model.process(List.of(
        EventEnvelope.create(Offset.sequence(40), PersistenceId.of("Device", "r-1").id(), 7, new ChurnRiskChanged(45, List.of(), T0), 0L),
        EventEnvelope.create(Offset.sequence(41), PersistenceId.of("Device", "r-1").id(), 8,
            new StageChanged(Stage.DAY_30, Stage.DAY_60, T0.plus(Duration.ofDays(30))), 0L),
        EventEnvelope.create(Offset.sequence(42), PersistenceId.of("Device", "r-2").id(), 7,
            new DeviceTwin.DeviceDecommissioned("cust-r", io.twinfleet.service.device.DecommissionReason.CHURNED, T0), 0L))));
    assertEquals(List.of(), ids(join(queries.atRisk(Stage.DAY_30, 1, 10))), "r-1 moved on, r-2 retired");
    assertEquals(List.of("r-1"), ids(join(queries.atRisk(Stage.DAY_60, 1, 10))));
    assertEquals(45, join(queries.atRisk(Stage.DAY_60, 1, 10)).get(0).riskScore(), "listed once, at its new score");
  }
}
