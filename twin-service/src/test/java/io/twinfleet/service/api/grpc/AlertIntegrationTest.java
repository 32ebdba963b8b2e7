package io.twinfleet.service.api.grpc;

import static io.twinfleet.service.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.function.Executable;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Collected;
import io.twinfleet.service.NodeTestBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Four devices on a clock where an hour passes every second, each raising one kind of alert: a
 * battery below 20%, a critical fault, a device that goes quiet (OFFLINE an hour later), one claimed
 * that never reports (ONBOARDING_STALLED, after 6 hours here). The alerts are listed, filtered and
 * paged, watched, acknowledged and resolved by hand or by their condition ending, across a restart;
 * bad requests get precise statuses and change nothing.
 */
class AlertIntegrationTest extends NodeTestBase {

  private static final Duration SOON = Duration.ofSeconds(30);

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, """
        twinfleet.clock.speed = 3600
        twinfleet.alerts.onboarding-stalled-after = 6 hours
        """);
  }

  private static DeviceServiceGrpc.DeviceServiceBlockingStub devices() {
    return DeviceServiceGrpc.newBlockingStub(node.channel());
  }

  private static QualityServiceGrpc.QualityServiceBlockingStub quality() {
    return QualityServiceGrpc.newBlockingStub(node.channel());
  }

  private static void claim(String id, String site, Duration heartbeat) {
    devices().registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel("lock").setSerial("SN-" + id)
        .setHeartbeatInterval(com.google.protobuf.Duration.newBuilder().setSeconds(heartbeat.toSeconds())).build());
    devices().claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(id).setCustomerId("c-1").setSiteId(site).build());
  }

  private static void report(String id, Integer battery, FaultSet faults) {
    io.twinfleet.protocol.v1.Reading.Builder r = io.twinfleet.protocol.v1.Reading.newBuilder().setDeviceId(id)
        .setObservedAt(ProtoMapping.timestamp(node.clock().instant()));
    if (battery != null) {
      r.setBatteryPercent(battery);
    }
    if (faults != null) {
      r.setFaults(faults);
    }
    TelemetryServiceGrpc.newBlockingStub(node.channel()).report(r.build());
  }

  private static List<Alert> list(ListAlertsRequest request) {
    List<Alert> all = new ArrayList<>();
    ListAlertsRequest next = request;
    while (true) {
      ListAlertsResponse page = quality().listAlerts(next);
      all.addAll(page.getAlertsList());
      if (page.getNextPageToken().isEmpty()) {
        return all;
      }
      next = request.toBuilder().setPageToken(page.getNextPageToken()).build();
    }
  }

  private static Set<String> ids(List<Alert> alerts) {
    return alerts.stream().map(Alert::getAlertId).collect(Collectors.toSet());
  }

  private static ListAlertsRequest state(AlertState s) {
    return ListAlertsRequest.newBuilder().setState(s).build();
  }

  private static void refused(Status.Code code, Executable call) {
    assertEquals(code, assertThrows(StatusRuntimeException.class, call).getStatus().getCode());
  }

  @Test
  void alertsAreRaisedOncePerEpisodeListedWatchedAndResolved() throws Exception {
    Collected<AlertChange> watch = new Collected<>();
    QualityServiceGrpc.newStub(node.channel()).watchAlerts(WatchAlertsRequest.newBuilder().setFromBeginning(true).build(), watch);

    // Each reports at once (within the 6 hours), and but for the quiet one stays on line for two days (48 s here).
    claim("al-low", "home-1", Duration.ofHours(24));
    report("al-low", 50, null);
    claim("al-crit", "home-1", Duration.ofHours(24));
    report("al-crit", null, FaultSet.newBuilder().addFaults(ReportedFault.newBuilder().setCode("E7").setSeverity(Severity.CRITICAL)).build());
    claim("al-quiet", "home-2", Duration.ofMinutes(10));
    report("al-quiet", null, null);
    claim("al-new", "home-2", Duration.ofMinutes(10)); // never reports
    report("al-low", 15, null);
    report("al-low", 12, null); // the same episode: no second alert
    report("al-crit", null, FaultSet.newBuilder().addFaults(ReportedFault.newBuilder().setCode("E7").setSeverity(Severity.CRITICAL)).build());

    await("four open alerts listed", SOON, () -> list(state(AlertState.ALERT_OPEN)).size() == 4);
    List<Alert> open = list(state(AlertState.ALERT_OPEN));
    assertEquals(Set.of("al-low/1", "al-crit/1", "al-quiet/1", "al-new/1"), ids(open));
    Alert quiet = open.stream().filter(a -> a.getDeviceId().equals("al-quiet")).findFirst().orElseThrow();
    assertEquals(AlertKind.OFFLINE, quiet.getKind());
    assertEquals("home-2", quiet.getSiteId());
    Alert crit = open.stream().filter(a -> a.getDeviceId().equals("al-crit")).findFirst().orElseThrow();
    assertEquals(AlertKind.CRITICAL_FAULT, crit.getKind());
    assertEquals("E7", crit.getSubject());
    assertEquals(List.of("al-quiet/1"), devices().getDevice(GetDeviceRequest.newBuilder().setDeviceId("al-quiet").build())
        .getAlertsList().stream().map(Alert::getAlertId).toList(), "the device view shows its open alert");

    // Filters and pages.
    assertEquals(Set.of("al-low/1"), ids(list(ListAlertsRequest.newBuilder().setKind(AlertKind.BATTERY_LOW).build())));
    assertEquals(Set.of("al-quiet/1", "al-new/1"), ids(list(ListAlertsRequest.newBuilder().setSiteId("home-2").build())));
    assertEquals(Set.of("al-new/1"), ids(list(ListAlertsRequest.newBuilder().setStage(Stage.ONBOARDING).build())));
    assertEquals(Set.of("al-new/1"), ids(list(ListAlertsRequest.newBuilder().setSiteId("home-2").setKind(AlertKind.ONBOARDING_STALLED).build())));
    ListAlertsResponse first = quality().listAlerts(ListAlertsRequest.newBuilder().setPageSize(1).build());
    assertEquals(1, first.getAlertsCount());
    assertTrue(!first.getNextPageToken().isEmpty());
    assertEquals(4, list(ListAlertsRequest.newBuilder().setPageSize(1).build()).size(), "pages of one hold each alert once");

    // Acknowledged, then its condition ends: resolved automatically. Listed as such once answered.
    Alert acked = quality().acknowledgeAlert(AcknowledgeAlertRequest.newBuilder().setAlertId("al-low/1").setNote("Calling.").build());
    assertEquals(AlertState.ALERT_ACKNOWLEDGED, acked.getState());
    assertEquals("Calling.", acked.getNote());
    assertEquals(acked, quality().acknowledgeAlert(AcknowledgeAlertRequest.newBuilder().setAlertId("al-low/1").setNote("Calling.").build()));
    assertEquals(Set.of("al-low/1"), ids(list(state(AlertState.ALERT_ACKNOWLEDGED))), "listed as acknowledged when answered");
    report("al-low", 95, null);
    await("battery alert over", SOON, () -> ids(list(state(AlertState.ALERT_RESOLVED))).contains("al-low/1"));
    Alert over = list(state(AlertState.ALERT_RESOLVED)).get(0);
    assertEquals(AlertResolution.RESOLVED_AUTOMATICALLY, over.getResolution());
    assertTrue(over.hasConditionOverAt());

    // Resolved by hand while the fault stays open: no new alert for it.
    Alert resolved = quality().resolveAlert(ResolveAlertRequest.newBuilder().setAlertId("al-crit/1").setNote("Technician sent.").build());
    assertEquals(AlertResolution.RESOLVED_BY_HAND, resolved.getResolution());
    assertTrue(!resolved.hasConditionOverAt());
    report("al-crit", null, FaultSet.newBuilder().addFaults(ReportedFault.newBuilder().setCode("E7").setSeverity(Severity.CRITICAL)).build());
    refused(Status.Code.FAILED_PRECONDITION, () -> quality().acknowledgeAlert(AcknowledgeAlertRequest.newBuilder().setAlertId("al-crit/1").build()));

    // The quiet device comes back: its alert ends.
    report("al-quiet", null, null);
    await("offline alert over", SOON, () -> ids(list(state(AlertState.ALERT_RESOLVED))).contains("al-quiet/1"));

    // Bad requests.
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().acknowledgeAlert(AcknowledgeAlertRequest.getDefaultInstance()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().acknowledgeAlert(AcknowledgeAlertRequest.newBuilder().setAlertId("al-low").build()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().resolveAlert(ResolveAlertRequest.newBuilder().setAlertId("al-low/0").build()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().resolveAlert(ResolveAlertRequest.newBuilder().setAlertId("al-new/1")
        .setNote("x".repeat(501)).build()));
    refused(Status.Code.NOT_FOUND, () -> quality().acknowledgeAlert(AcknowledgeAlertRequest.newBuilder().setAlertId("al-low/9").build()));
    refused(Status.Code.NOT_FOUND, () -> quality().acknowledgeAlert(AcknowledgeAlertRequest.newBuilder().setAlertId("ghost/1").build()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().listAlerts(ListAlertsRequest.newBuilder().setPageToken("garbage").build()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().listAlerts(ListAlertsRequest.newBuilder().setPageSize(501).build()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().listAlerts(ListAlertsRequest.newBuilder().setStageValue(99).build()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().listAlerts(ListAlertsRequest.newBuilder().setSiteId("bad site").build()));
    refused(Status.Code.INVALID_ARGUMENT, () -> quality().listAlerts(ListAlertsRequest.newBuilder().setKind(AlertKind.BATTERY_LOW)
        .setPageToken(first.getNextPageToken()).build()));
    Collected<AlertChange> badWatch = new Collected<>();
    QualityServiceGrpc.newStub(node.channel()).watchAlerts(WatchAlertsRequest.newBuilder().setResumeToken("garbage").build(), badWatch);
    await("bad watch refused", SOON, () -> badWatch.ended != null);
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(badWatch.ended).getCode());
    assertEquals(AlertState.ALERT_OPEN, list(ListAlertsRequest.newBuilder().setSiteId("home-2").setKind(AlertKind.ONBOARDING_STALLED).build())
        .get(0).getState(), "nothing changed by the bad requests");

    // The watch saw every change, in order per alert.
    await("watched", SOON, () -> watch.items.stream().filter(c -> c.getAlert().getAlertId().equals("al-quiet/1")).count() == 2);
    List<AlertChangeKind> low = watch.items.stream().filter(c -> c.getAlert().getAlertId().equals("al-low/1")).map(AlertChange::getChange).toList();
    assertEquals(List.of(AlertChangeKind.ALERT_RAISED, AlertChangeKind.ALERT_ACKNOWLEDGED_CHANGE, AlertChangeKind.ALERT_CONDITION_OVER), low);
    assertEquals(1, watch.items.stream().filter(c -> c.getAlert().getDeviceId().equals("al-crit") && c.getChange() == AlertChangeKind.ALERT_RAISED)
        .count(), "one critical fault alert for the episode");
    String token = watch.items.get(watch.items.size() - 1).getResumeToken();

    restartNode();
    assertEquals(Set.of("al-new/1"), ids(list(state(AlertState.ALERT_OPEN))));
    assertEquals(Set.of("al-low/1", "al-crit/1", "al-quiet/1"), ids(list(state(AlertState.ALERT_RESOLVED))));
    Collected<AlertChange> resumed = new Collected<>();
    QualityServiceGrpc.newStub(node.channel()).watchAlerts(WatchAlertsRequest.newBuilder().setResumeToken(token).build(), resumed);
    quality().acknowledgeAlert(AcknowledgeAlertRequest.newBuilder().setAlertId("al-new/1").build());
    await("the resumed watch goes on after its token", SOON,
        () -> resumed.items.stream().anyMatch(c -> c.getAlert().getAlertId().equals("al-new/1")));
    // Only what came after the token (the quiet device, quiet again, may have a new OFFLINE alert).
    List<String> after = resumed.items.stream().map(c -> c.getAlert().getAlertId() + " " + c.getChange()).toList();
    assertEquals(1, after.stream().filter(c -> c.startsWith("al-new/1")).count(), after.toString());
    assertTrue(after.contains("al-new/1 ALERT_ACKNOWLEDGED_CHANGE") && after.stream().noneMatch(c -> c.startsWith("al-low")), after.toString());
  }
}
