package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Eventually;
import io.twinfleet.service.NodeTestBase;
import io.twinfleet.service.TestNode;
import io.twinfleet.service.device.DeviceTwin;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two service nodes on loopback and one Cassandra: the second joins the first through
 * twinfleet.cluster.seed-nodes, takes a share of the device shards, serves every twin whichever
 * node holds it, and on a graceful stop hands its twins back with their live telemetry.
 */
class TwoNodeClusterIntegrationTest extends NodeTestBase {

  private static final int DEVICES = 120;

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "");
  }

  private static Timestamp now() {
    Instant t = Instant.now();
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  private static int upMembers(TestNode n) {
    int up = 0;
    for (var m : Cluster.get(n.system()).state().getMembers()) {
      up += m.status() == MemberStatus.up() ? 1 : 0;
    }
    return up;
  }

  /** How many Device shards the node at {@code address} hosts, as the cluster sees it. */
  private static int shardsAt(TestNode asking, Address address) throws Exception {
    ShardRegion.ClusterShardingStats stats = AskPattern.<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
            ClusterSharding.get(asking.system()).shardState(),
            replyTo -> new GetClusterShardingStats(DeviceTwin.ENTITY_KEY, Duration.ofSeconds(5), replyTo),
            Duration.ofSeconds(10), asking.system().scheduler())
        .toCompletableFuture().get(15, TimeUnit.SECONDS);
    ShardRegion.ShardRegionStats region = stats.getRegions().get(address);
    return region == null ? 0 : region.getStats().size();
  }

  /**
   * The device, asking again while the answer is UNAVAILABLE ("safe to retry"), as a client does:
   * after a node leaves, the remembered twins it held all start again on the other at once.
   */
  private static Device get(TestNode n, String id) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        return DeviceServiceGrpc.newBlockingStub(n.channel()).withDeadlineAfter(20, TimeUnit.SECONDS)
            .getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build());
      } catch (io.grpc.StatusRuntimeException e) {
        if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE || System.nanoTime() > end) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  @Test
  void aSecondNodeJoinsTakesShardsServesEveryTwinAndHandsThemBackOnAGracefulStop() throws Exception {
    var devices = DeviceServiceGrpc.newBlockingStub(node.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
    var telemetry = TelemetryServiceGrpc.newBlockingStub(node.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
    for (int i = 0; i < DEVICES; i++) {
      String id = "cl-" + i;
      devices.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel("thermostat-t3").setSerial("S" + i).build());
      devices.claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(id).setCustomerId("cust-c").setSiteId("site-c").build());
      telemetry.report(Reading.newBuilder().setDeviceId(id).setObservedAt(now()).setBatteryPercent(30 + i % 60).build());
    }

    int seedPort = Cluster.get(node.system()).selfMember().address().getPort().get();
    try (TestNode second = TestNode.start(keyspace, "twinfleet.cluster.seed-nodes = \"127.0.0.1:" + seedPort + "\"")) {
      Eventually.await("two Up members", Duration.ofSeconds(60), () -> upMembers(node) == 2 && upMembers(second) == 2);
      Address secondAddress = Cluster.get(second.system()).selfMember().address();

      // Every twin answers through the new node, wherever its shard lives; twins of new devices
      // and rebalanced shards land on the new node.
      for (int i = 0; i < DEVICES; i++) {
        assertEquals(30 + i % 60, get(second, "cl-" + i).getBatteryPercent(), "cl-" + i);
      }
      for (int i = DEVICES; i < DEVICES + 40; i++) {
        DeviceServiceGrpc.newBlockingStub(second.channel()).withDeadlineAfter(60, TimeUnit.SECONDS).registerDevice(
            RegisterDeviceRequest.newBuilder().setDeviceId("cl-" + i).setModel("thermostat-t3").setSerial("S" + i).build());
      }
      Eventually.await("the new node hosts device shards", Duration.ofSeconds(60), () -> {
        try {
          return shardsAt(node, secondAddress) > 0;
        } catch (Exception e) {
          return false;
        }
      });
      // Readings through the new node to twins on either node; new battery values live in memory only.
      var secondTelemetry = TelemetryServiceGrpc.newBlockingStub(second.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
      for (int i = 0; i < DEVICES; i++) {
        secondTelemetry.report(Reading.newBuilder().setDeviceId("cl-" + i).setObservedAt(now()).setBatteryPercent(31 + i % 60).build());
      }
    } // a graceful stop: gRPC first, then the shards are handed off, the twins checkpointing what memory held

    Eventually.await("one Up member", Duration.ofSeconds(60), () -> upMembers(node) == 1);
    for (int i = 0; i < DEVICES; i++) {
      Device d = get(node, "cl-" + i);
      assertEquals(31 + i % 60, d.getBatteryPercent(), "cl-" + i + " kept the reading its twin held on the stopped node");
      assertTrue(d.getOnline(), "cl-" + i);
    }
    for (int i = DEVICES; i < DEVICES + 40; i++) {
      assertEquals(Stage.UNCLAIMED, get(node, "cl-" + i).getStage());
    }
  }
}
