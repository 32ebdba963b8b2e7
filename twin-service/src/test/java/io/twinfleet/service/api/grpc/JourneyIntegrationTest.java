package io.twinfleet.service.api.grpc;

import static io.twinfleet.service.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Collected;
import io.twinfleet.service.NodeTestBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Devices walk through every stage on a clock where 30 days pass in 4 seconds, while the service
 * restarts midway; the stage funnel, the stage lists, the stage change stream (resumed across the
 * restart) and every device's journey must agree with what the test drove. One model lives 95 days
 * in service: its device reaches END_OF_LIFE by time, with nobody asking for it after the restart.
 */
class JourneyIntegrationTest extends NodeTestBase {

  private static final double SPEED = 30 * 86_400 / 4.0;

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, """
        twinfleet.clock.speed = %s
        twinfleet.journey.models { "sensor-s1" { expected-lifetime = 95 days } }
        """.formatted(SPEED));
  }


  /** A watch of stage changes, collected as they come. */
  private static Collected<StageChangeEvent> watch(WatchStageChangesRequest request) {
    Collected<StageChangeEvent> w = new Collected<>();
    JourneyServiceGrpc.newStub(node.channel()).watchStageChanges(request, w);
    return w;
  }

  private static DeviceServiceGrpc.DeviceServiceBlockingStub devices() {
    return DeviceServiceGrpc.newBlockingStub(node.channel());
  }

  private static JourneyServiceGrpc.JourneyServiceBlockingStub journeys() {
    return JourneyServiceGrpc.newBlockingStub(node.channel());
  }

  private static void claim(String id, String model, String customer, String site, boolean activate) {
    devices().registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel(model).setSerial("SN-" + id).build());
    devices().claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(id).setCustomerId(customer).setSiteId(site).build());
    if (activate) {
      TelemetryServiceGrpc.newBlockingStub(node.channel())
          // stamped with the service's now: at this speed the claim time is a week old after a second's stall
          .report(io.twinfleet.protocol.v1.Reading.newBuilder().setDeviceId(id).setObservedAt(ProtoMapping.timestamp(node.clock().instant())).build());
    }
  }

  private static List<Stage> journeyStages(String id) {
    List<Stage> stages = new ArrayList<>();
    for (StageChange c : journeys().getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId(id).build()).getStageChangesList()) {
      stages.add(c.getTo());
    }
    return stages;
  }

  private static Map<Stage, Long> funnel(GetStageFunnelRequest request) {
    Map<Stage, Long> counts = new LinkedHashMap<>();
    for (StageCount c : journeys().getStageFunnel(request).getStagesList()) {
      if (c.getDevices() > 0) {
        counts.put(c.getStage(), c.getDevices());
      }
    }
    return counts;
  }

  private static Set<String> listed(ListDevicesByStageRequest request) {
    Set<String> ids = new TreeSet<>();
    String token = "";
    do {
      ListDevicesByStageResponse page = journeys().listDevicesByStage(request.toBuilder().setPageSize(2).setPageToken(token).build());
      page.getDevicesList().forEach(d -> assertTrue(ids.add(d.getDeviceId()), "listed twice: " + d.getDeviceId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }


  @Test
  void devicesWalkEveryStageAcrossARestart() throws Exception {
    Collected<StageChangeEvent> before = watch(WatchStageChangesRequest.newBuilder().setFromBeginning(true).build());
    claim("lock-0", "lock", "cust-0", "home-0", true);
    claim("lock-1", "lock", "cust-1", "home-1", true);
    claim("lock-2", "lock", "cust-1", "home-1", false);
    claim("cam-3", "camera", "cust-0", "home-0", true);
    claim("cam-4", "camera", "cust-1", "home-1", true);
    claim("cam-5", "camera", "cust-0", "home-0", false);
    claim("old-6", "sensor-s1", "cust-2", "home-2", true);
    devices().decommissionDevice(DecommissionDeviceRequest.newBuilder().setDeviceId("cam-4").setReason(DecommissionReason.RETURNED).build());

    await("the watch has seen DAY_60", Duration.ofSeconds(20), () -> before.items.stream().anyMatch(e -> e.getTo() == Stage.DAY_60));
    stopNode();
    await("the watch ended with its node", Duration.ofSeconds(10), () -> before.ended != null);
    String token = before.items.get(before.items.size() - 1).getResumeToken();
    startAgain();
    Collected<StageChangeEvent> after = watch(WatchStageChangesRequest.newBuilder().setResumeToken(token).build());

    List<Stage> walked = List.of(Stage.ONBOARDING, Stage.DAY_30, Stage.DAY_60, Stage.DAY_90, Stage.MATURE);
    await("every active device is MATURE", Duration.ofSeconds(30),
        () -> List.of("lock-0", "lock-1", "cam-3").stream().allMatch(id -> journeyStages(id).equals(walked)));
    // Only the durable schedule can wake old-6's twin after the restart: the test reads it from the read model.
    await("old-6 reached its end of life", Duration.ofSeconds(30),
        () -> listed(ListDevicesByStageRequest.newBuilder().setStage(Stage.END_OF_LIFE).setCustomerId("cust-2").build()).equals(Set.of("old-6")));
    List<Stage> lived = List.of(Stage.ONBOARDING, Stage.DAY_30, Stage.DAY_60, Stage.DAY_90, Stage.MATURE, Stage.END_OF_LIFE);
    assertEquals(lived, journeyStages("old-6"));
    assertEquals(List.of(Stage.ONBOARDING), journeyStages("lock-2"));
    assertEquals(List.of(Stage.ONBOARDING, Stage.DAY_30, Stage.END_OF_LIFE), journeyStages("cam-4"));

    Map<Stage, Long> expected = Map.of(Stage.ONBOARDING, 2L, Stage.MATURE, 3L, Stage.END_OF_LIFE, 2L);
    await("the funnel has caught up", Duration.ofSeconds(20), () -> funnel(GetStageFunnelRequest.getDefaultInstance()).equals(expected));
    StageFunnel all = journeys().getStageFunnel(GetStageFunnelRequest.getDefaultInstance());
    assertEquals(7, all.getDevices());
    assertEquals(List.of("camera", "lock", "sensor-s1"), all.getClaimToActivationList().stream().map(ActivationTimes::getModel).toList());
    assertEquals(List.of(2L, 2L, 1L), all.getClaimToActivationList().stream().map(ActivationTimes::getDevices).toList());
    assertEquals(Map.of(Stage.ONBOARDING, 1L, Stage.MATURE, 2L), funnel(GetStageFunnelRequest.newBuilder().setModel("lock").build()));
    assertEquals(Map.of(Stage.ONBOARDING, 1L, Stage.MATURE, 1L, Stage.END_OF_LIFE, 1L),
        funnel(GetStageFunnelRequest.newBuilder().setCustomerId("cust-1").build()));
    assertEquals(Map.of(Stage.ONBOARDING, 1L, Stage.MATURE, 2L), funnel(GetStageFunnelRequest.newBuilder().setSiteId("home-0").build()));

    assertEquals(Set.of("lock-0", "lock-1", "cam-3"), listed(ListDevicesByStageRequest.newBuilder().setStage(Stage.MATURE).build()));
    assertEquals(Set.of("cam-3", "cam-4", "cam-5"), listed(ListDevicesByStageRequest.newBuilder().setModel("camera").build()));
    assertEquals(Set.of("lock-2"), listed(ListDevicesByStageRequest.newBuilder().setStage(Stage.ONBOARDING).setCustomerId("cust-1").build()));
    assertEquals(Set.of("lock-0", "cam-3", "cam-5"), listed(ListDevicesByStageRequest.newBuilder().setSiteId("home-0").build()));

    // Every claimed device still in service has a stored risk (a new customer's stage alone is one);
    // the list is highest first and leaves the retired device out.
    Set<String> inService = Set.of("lock-0", "lock-1", "lock-2", "cam-3", "cam-5", "old-6");
    await("every device in service is listed at risk", Duration.ofSeconds(20), () -> new TreeSet<>(journeys()
        .listAtRisk(ListAtRiskRequest.getDefaultInstance()).getDevicesList().stream().map(AtRiskDevice::getDeviceId).toList())
        .equals(inService));
    List<AtRiskDevice> risky = journeys().listAtRisk(ListAtRiskRequest.getDefaultInstance()).getDevicesList();
    for (int i = 1; i < risky.size(); i++) {
      assertTrue(risky.get(i - 1).getChurnRisk().getScore() >= risky.get(i).getChurnRisk().getScore(), risky.toString());
    }
    risky.forEach(d -> assertFalse(d.getChurnRisk().getFactors(0).getReason().isEmpty()));
    await("the never-activated devices are listed under ONBOARDING", Duration.ofSeconds(20), () -> journeys()
        .listAtRisk(ListAtRiskRequest.newBuilder().setStage(Stage.ONBOARDING).build()).getDevicesList().stream()
        .map(AtRiskDevice::getDeviceId).collect(java.util.stream.Collectors.toSet()).equals(Set.of("lock-2", "cam-5")));
    ChurnRisk stalled = devices().getDevice(GetDeviceRequest.newBuilder().setDeviceId("lock-2").build()).getChurnRisk();
    assertEquals(List.of(RiskFactorKind.RISK_ONBOARDING_TIME, RiskFactorKind.RISK_STAGE),
        stalled.getFactorsList().stream().map(RiskFactor::getKind).toList(), "claimed three months ago, never reported");
    assertEquals(16, stalled.getScore(), "onboarding time in full (10) and ONBOARDING (6)");
    assertEquals(1, journeys().listAtRisk(ListAtRiskRequest.newBuilder().setLimit(1).build()).getDevicesCount());

    // The stream before the restart and the one resumed after it: every stored change once, in order per device.
    await("the resumed watch has every change", Duration.ofSeconds(20), () -> before.items.size() + after.items.size() >= 26);
    Map<String, List<Stage>> watched = new LinkedHashMap<>();
    Consumer<StageChangeEvent> add = e -> watched.computeIfAbsent(e.getDeviceId(), k -> new ArrayList<>()).add(e.getTo());
    before.items.forEach(add);
    after.items.forEach(add);
    for (String id : List.of("lock-0", "lock-1", "lock-2", "cam-3", "cam-4", "cam-5", "old-6")) {
      assertEquals(journeyStages(id), watched.get(id), "watched changes of " + id);
    }
    assertFalse(after.items.isEmpty(), "changes stored after the restart came through the resumed watch");

    Collected<StageChangeEvent> matured = watch(WatchStageChangesRequest.newBuilder().setFromBeginning(true).addStages(Stage.MATURE).build());
    await("the filtered watch has every MATURE change", Duration.ofSeconds(20), () -> matured.items.size() >= 4);
    TimeUnit.SECONDS.sleep(1);
    assertEquals(Set.of("lock-0", "lock-1", "cam-3", "old-6"), new TreeSet<>(matured.items.stream().map(StageChangeEvent::getDeviceId).toList()));
    assertEquals(4, matured.items.size());
  }

  @Test
  void badJourneyQueriesAreRefusedNamingTheField() {
    assertInvalid("stage", () -> journeys().listDevicesByStage(ListDevicesByStageRequest.newBuilder().setStage(Stage.UNCLAIMED).build()));
    assertInvalid("stage", () -> journeys().listDevicesByStage(ListDevicesByStageRequest.newBuilder().setStageValue(42).build()));
    assertInvalid("page_size", () -> journeys().listDevicesByStage(ListDevicesByStageRequest.newBuilder().setPageSize(501).build()));
    assertInvalid("page_token", () -> journeys().listDevicesByStage(ListDevicesByStageRequest.newBuilder().setPageToken("nonsense").build()));
    assertInvalid("site_id", () -> journeys().getStageFunnel(GetStageFunnelRequest.newBuilder().setSiteId("no spaces").build()));
    assertInvalid("resume_token", () -> journeys().watchStageChanges(
        WatchStageChangesRequest.newBuilder().setResumeToken("nonsense").build()).hasNext());
    assertInvalid("from_beginning", () -> journeys().watchStageChanges(
        WatchStageChangesRequest.newBuilder().setResumeToken("x").setFromBeginning(true).build()).hasNext());
    assertInvalid("min_score", () -> journeys().listAtRisk(ListAtRiskRequest.newBuilder().setMinScore(101).build()));
    assertInvalid("limit", () -> journeys().listAtRisk(ListAtRiskRequest.newBuilder().setLimit(-1).build()));
    assertInvalid("stage", () -> journeys().listAtRisk(ListAtRiskRequest.newBuilder().setStage(Stage.UNCLAIMED).build()));
    assertInvalid("stages[0]", () -> journeys().watchStageChanges(
        WatchStageChangesRequest.newBuilder().addStages(Stage.STAGE_UNSPECIFIED).build()).hasNext());
  }

  private static void assertInvalid(String field, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().startsWith(field + ":"), e.getStatus().getDescription());
  }
}
