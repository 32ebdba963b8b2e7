package io.twinfleet.service.api.grpc;

import static io.twinfleet.service.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.NodeTestBase;
import io.twinfleet.service.device.DeviceTwin;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A journey milestone moves the stage although the twin sleeps and nobody asks: on a clock where
 * 30 days pass in 5 seconds, a device reports once and goes quiet, its twin is passivated, and the
 * milestone scheduler wakes it to store DAY_30 -> DAY_60 at the exact milestone.
 */
class StageMilestoneIntegrationTest extends NodeTestBase {

  private static final double SPEED = 30 * 86_400 / 5.0;

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, """
        twinfleet.clock.speed = %s
        twinfleet.device.passivate-after = 1s
        """.formatted(SPEED));
  }

  /** Registers, claims and activates a device; returns its activation time. */
  private static Instant activate(String deviceId) {
    var devices = DeviceServiceGrpc.newBlockingStub(node.channel());
    devices.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(deviceId).setModel("lock-l1").setSerial("SN-1").build());
    Device claimed = devices.claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(deviceId).setCustomerId("c-1").setSiteId("s-1").build());
    // stamped in service time, which runs ahead of real time here
    TelemetryServiceGrpc.newBlockingStub(node.channel()).report(Reading.newBuilder().setDeviceId(deviceId)
        .setObservedAt(claimed.getClaimedAt()).build());
    Instant activated = instant(devices.getDevice(GetDeviceRequest.newBuilder().setDeviceId(deviceId).build()).getActivatedAt());
    assertEquals(2, storedStageChanges(deviceId), "claimed and activated");
    return activated;
  }

  /** Asserts the third stage change of the device is DAY_30 to DAY_60 exactly 30 days after activation. */
  private static void assertDay60AtItsMilestone(String deviceId, Instant activated) {
    DeviceJourney journey = JourneyServiceGrpc.newBlockingStub(node.channel())
        .getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId(deviceId).build());
    StageChange day60 = journey.getStageChanges(2);
    assertEquals(List.of(Stage.DAY_30, Stage.DAY_60), List.of(day60.getFrom(), day60.getTo()));
    assertEquals(activated.plus(Duration.ofDays(30)), instant(day60.getAt()), "at the exact milestone");
  }


  private static Instant instant(com.google.protobuf.Timestamp t) {
    return ProtoMapping.instant("timestamp", t);
  }

  private static long storedStageChanges(String deviceId) {
    return keyspace.session()
        .execute("SELECT ser_manifest FROM messages WHERE persistence_id = ? AND partition_nr = 0", "Device|" + deviceId)
        .all().stream().filter(r -> r.getString("ser_manifest").endsWith("StageChanged")).count();
  }

  private static Set<String> liveTwins() {
    TestProbe<ShardRegion.CurrentShardRegionState> probe = TestProbe.create(node.system());
    ClusterSharding.get(node.system()).shardState().tell(new GetShardRegionState(DeviceTwin.ENTITY_KEY, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(5)).getShards().stream()
        .flatMap(s -> s.getEntityIds().stream()).collect(java.util.stream.Collectors.toSet());
  }


  @Test
  void aSleepingTwinIsWokenAtItsMilestone() throws Exception {
    Instant activated = activate("sleepy-1");
    await("the twin is passivated", Duration.ofSeconds(4), () -> !liveTwins().contains("sleepy-1"));
    assertEquals(2, storedStageChanges("sleepy-1"), "no milestone yet: it was passivated within a second, the milestone is 5 s away");

    // No request for the device from here on: only the scheduler can wake its twin.
    await("DAY_60 is stored", Duration.ofSeconds(15), () -> storedStageChanges("sleepy-1") >= 3);
    assertDay60AtItsMilestone("sleepy-1", activated);
  }

  @Test
  void aMilestoneThatFellDueWhileTheNodeWasDownIsStoredAfterTheRestart() throws Exception {
    Instant activated = activate("restarted-1");
    stopNode();
    TimeUnit.SECONDS.sleep(6); // 36 simulated days: the milestone passes while nothing runs
    assertEquals(2, storedStageChanges("restarted-1"));
    startAgain();

    await("DAY_60 is stored", Duration.ofSeconds(15), () -> storedStageChanges("restarted-1") >= 3);
    assertDay60AtItsMilestone("restarted-1", activated);
    Device later = DeviceServiceGrpc.newBlockingStub(node.channel()).registerDevice(
        RegisterDeviceRequest.newBuilder().setDeviceId("later-1").setModel("lock-l1").setSerial("SN-2").build());
    assertTrue(instant(later.getRegisteredAt()).isAfter(activated.plus(Duration.ofDays(36))),
        "simulated time went on while the node was down, rather than starting again from real time");
  }
}
