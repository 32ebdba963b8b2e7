package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.CqlSession;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.persistence.cassandra.CassandraSchema;
import io.twinfleet.persistence.cassandra.EmbeddedCassandra;
import io.twinfleet.persistence.cassandra.EmbeddedCassandraSettings;
import io.twinfleet.protocol.v1.ClaimDeviceRequest;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.Reading;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import io.twinfleet.service.TestNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Cassandra stopped under a running node, and started again on the same data: while it is away,
 * whatever would be stored is refused at once with UNAVAILABLE and changes nothing, reads of twins
 * in memory and plain heartbeats go on; when it is back, everything is accepted again and nothing
 * acknowledged before is missing. A Cassandra node of its own, since this one is stopped.
 */
class CassandraOutageIntegrationTest {

  private static final String KEYSPACE = "outage";

  private static Timestamp now() {
    Instant t = Instant.now();
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static StatusRuntimeException refused(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    return fail("expected a refusal");
  }

  @Test
  void whileCassandraIsAwayWritesFailFastReadsGoOnAndAllHealsWhenItIsBack() throws Exception {
    EmbeddedCassandraSettings settings = EmbeddedCassandraSettings.defaults()
        .withDataDirectory(Files.createTempDirectory("outage-cassandra")).withCqlPort(freePort()).withStoragePort(freePort());
    EmbeddedCassandra cassandra = EmbeddedCassandra.start(settings);
    try (CqlSession session = EmbeddedCassandra.sessionBuilder(new InetSocketAddress("127.0.0.1", cassandra.cqlPort()), cassandra.localDatacenter()).build()) {
      CassandraSchema.createKeyspace(session, KEYSPACE);
      CassandraSchema.apply(session, KEYSPACE);
    }
    try (TestNode node = TestNode.start("127.0.0.1", cassandra.cqlPort(), KEYSPACE, "")) {
      var devices = DeviceServiceGrpc.newBlockingStub(node.channel()).withDeadlineAfter(5, TimeUnit.MINUTES);
      var telemetry = TelemetryServiceGrpc.newBlockingStub(node.channel()).withDeadlineAfter(5, TimeUnit.MINUTES);
      devices.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId("out-1").setModel("thermostat-t3").setSerial("S1")
          .setFirmwareVersion("1.0.0").build());
      devices.claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId("out-1").setCustomerId("cust-o").setSiteId("site-o").build());
      telemetry.report(Reading.newBuilder().setDeviceId("out-1").setObservedAt(now()).setBatteryPercent(80).build());

      cassandra.close();
      cassandra = null;

      // Soon every command that would store something is refused, at once.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      StatusRuntimeException first;
      while (true) {
        first = refused(() -> DeviceServiceGrpc.newBlockingStub(node.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
            .registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId("out-2").setModel("thermostat-t3").setSerial("S2").build()));
        if (first.getStatus().getDescription() != null && first.getStatus().getDescription().contains("Cassandra")) {
          break;
        }
        assertTrue(System.nanoTime() < deadline, "refusals name Cassandra within 30 s; last: " + first.getStatus());
        Thread.sleep(200);
      }
      assertEquals(Status.Code.UNAVAILABLE, first.getStatus().getCode());
      assertTrue(first.getStatus().getDescription().contains("nothing was changed"), first.getStatus().getDescription());

      long start = System.nanoTime();
      for (int i = 0; i < 200; i++) {
        String id = "out-new-" + i;
        StatusRuntimeException e = refused(() -> devices.registerDevice(
            RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel("thermostat-t3").setSerial("N").build()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(seconds < 20, "200 refusals took " + seconds + " s: they must not wait for a timeout each");

      StatusRuntimeException upgrade = refused(() -> telemetry.report(
          Reading.newBuilder().setDeviceId("out-1").setObservedAt(now()).setFirmwareVersion("2.0.0").build()));
      assertEquals(Status.Code.UNAVAILABLE, upgrade.getStatus().getCode(), "a reading that changes something is refused");
      telemetry.report(Reading.newBuilder().setDeviceId("out-1").setObservedAt(now()).build()); // a plain heartbeat is not
      Device d = devices.getDevice(GetDeviceRequest.newBuilder().setDeviceId("out-1").build());
      assertEquals("1.0.0", d.getFirmwareVersion(), "the refused reading changed nothing");
      assertEquals(80, d.getBatteryPercent(), "the twin in memory answers");
      assertTrue(d.getOnline());

      cassandra = EmbeddedCassandra.start(settings);
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (true) {
        try {
          devices.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId("out-2").setModel("thermostat-t3").setSerial("S2").build());
          break;
        } catch (StatusRuntimeException e) {
          assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), "only UNAVAILABLE while Cassandra comes back");
          assertTrue(System.nanoTime() < deadline, "accepted again within 90 s of Cassandra's return: " + e.getStatus());
          Thread.sleep(500);
        }
      }
      telemetry.report(Reading.newBuilder().setDeviceId("out-1").setObservedAt(now()).setFirmwareVersion("2.0.0").build());
      d = devices.getDevice(GetDeviceRequest.newBuilder().setDeviceId("out-1").build());
      assertEquals("2.0.0", d.getFirmwareVersion());
      assertEquals(80, d.getBatteryPercent());
      assertEquals("cust-o", d.getCustomerId(), "what was stored before the outage is there");
      assertFalse(node.system().getWhenTerminated().toCompletableFuture().isDone(), "the node rode out the outage");
    } finally {
      if (cassandra != null) {
        cassandra.close();
      }
    }
  }
}
