package io.twinfleet.service.api.grpc;

import static io.twinfleet.service.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Durations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.NodeTestBase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three devices on a clock where an hour passes every second: one goes quiet, one raises a critical
 * fault. The fleet's quality and its breakdown must agree with the devices' own views, across a
 * restart, and bad requests get INVALID_ARGUMENT.
 */
class QualityIntegrationTest extends NodeTestBase {

  private static final Duration SOON = Duration.ofSeconds(30);

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "twinfleet.clock.speed = 3600");
  }


  private static DeviceServiceGrpc.DeviceServiceBlockingStub devices() {
    return DeviceServiceGrpc.newBlockingStub(node.channel());
  }

  private static QualityServiceGrpc.QualityServiceBlockingStub quality() {
    return QualityServiceGrpc.newBlockingStub(node.channel());
  }

  private static void activate(String id, String model, String firmware, Duration heartbeat, FaultSet faults) {
    devices().registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel(model).setSerial("SN-" + id)
        .setFirmwareVersion(firmware).setHeartbeatInterval(com.google.protobuf.Duration.newBuilder().setSeconds(heartbeat.toSeconds())).build());
    devices().claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(id).setCustomerId("c-" + id).setSiteId("s-" + id).build());
    TelemetryServiceGrpc.newBlockingStub(node.channel()).report(io.twinfleet.protocol.v1.Reading.newBuilder().setDeviceId(id)
        .setObservedAt(ProtoMapping.timestamp(node.clock().instant())).setFaults(faults).build());
  }

  /**
   * How long device {@code id}, off line since it was last seen, had been off line at {@code asOf}:
   * from its view's connectivity_since, so how long the two questions took apart does not count (a
   * second of real time is an hour here).
   */
  private static long offlineMillis(String id, com.google.protobuf.Timestamp asOf) {
    Device d = devices().getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build());
    assertTrue(!d.getOnline(), id + " is off line");
    return com.google.protobuf.util.Timestamps.toMillis(asOf) - com.google.protobuf.util.Timestamps.toMillis(d.getConnectivitySince());
  }

  private static QualityBreakdown breakdown(QualityDimension d) {
    return quality().getQualityBreakdown(GetQualityBreakdownRequest.newBuilder().setDimension(d).build());
  }

  @Test
  void fleetUptimeAndItsBreakdownFollowTheDevices() throws Exception {
    activate("q-a", "lock", "1.0", Duration.ofHours(24), FaultSet.getDefaultInstance());
    activate("q-b", "lock", "1.0", Duration.ofMinutes(10), FaultSet.getDefaultInstance()); // quiet from now: off line in 20 minutes
    activate("q-c", "camera", "2.0", Duration.ofHours(24),
        FaultSet.newBuilder().addFaults(ReportedFault.newBuilder().setCode("C-LENS").setSeverity(Severity.CRITICAL)).build());

    await("three active, one off line, one broken", SOON, () -> {
      FleetQuality q = quality().getFleetQuality(GetFleetQualityRequest.getDefaultInstance());
      return q.getDevicesActive() == 3 && q.getDevicesOffline() == 1 && q.getDevicesWorking() == 1;
    });
    Thread.sleep(2_000); // two hours off line

    FleetQuality q = quality().getFleetQuality(GetFleetQualityRequest.getDefaultInstance());
    long bOffline = offlineMillis("q-b", q.getAsOf());
    assertTrue(bOffline > Duration.ofHours(1).toMillis(), "b has been off line for hours: " + bOffline);
    assertEquals(bOffline, Durations.toMillis(q.getOffline()), 1, "the fleet's downtime is b's, to the millisecond");
    assertTrue(q.getUptime() < 1 && q.getUptime() > 0.3, q.toString());
    assertEquals(2, q.getDevicesOnline());

    QualityBreakdown firmware = breakdown(QualityDimension.FIRMWARE);
    assertEquals("1.0", firmware.getValues(0).getValue(), "b's firmware tops the breakdown: " + firmware);
    assertEquals(1.0, firmware.getValues(0).getShare(), 1e-9);
    assertEquals(2, firmware.getValues(0).getDevices());
    assertEquals("2.0", firmware.getValues(1).getValue());
    assertEquals(1.0, firmware.getValues(1).getUptime(), 1e-9);
    assertEquals("lock", breakdown(QualityDimension.MODEL).getValues(0).getValue());
    QualityBreakdown faults = breakdown(QualityDimension.FAULT);
    assertEquals("none", faults.getValues(0).getValue(), "b went quiet with no fault open: " + faults);
    assertTrue(faults.getValuesList().stream().anyMatch(v -> v.getValue().equals("C-LENS") && v.getDevices() == 1));
    assertEquals("DAY_30", breakdown(QualityDimension.STAGE).getValues(0).getValue());

    // A window of one hour counts only that hour's whole part up to now.
    FleetQuality hour = quality().getFleetQuality(GetFleetQualityRequest.newBuilder().setWindow(Durations.fromHours(1)).build());
    assertTrue(Durations.toMillis(hour.getLife()) <= 3 * Duration.ofHours(2).toMillis(), hour.toString());

    assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
        () -> quality().getFleetQuality(GetFleetQualityRequest.newBuilder().setWindow(Durations.fromMinutes(30)).build())).getStatus().getCode());
    assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
        () -> quality().getQualityBreakdown(GetQualityBreakdownRequest.getDefaultInstance())).getStatus().getCode());

    restartNode();
    FleetQuality again = quality().getFleetQuality(GetFleetQualityRequest.getDefaultInstance());
    assertEquals(3, again.getDevicesActive());
    assertEquals(offlineMillis("q-b", again.getAsOf()), Durations.toMillis(again.getOffline()), 1, "still b's downtime after a restart");
  }
}
