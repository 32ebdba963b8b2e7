package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Collected;
import io.twinfleet.service.Eventually;
import io.twinfleet.service.NodeTestBase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The limits that keep a flood from hurting the service, over real gRPC: a device's rate limit
 * refuses its excess readings with RESOURCE_EXHAUSTED and a retry_after, and the node's bound on
 * readings in flight refuses whole batches the same way; neither changes anything, and a stream's
 * permits come back when it ends, however it ends.
 */
class IngestLimitsIntegrationTest extends NodeTestBase {

  private static final int BATCH = 10;

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, """
        twinfleet.device.reading-rate-limit { per-second = 0.1, burst = 3 }
        twinfleet.grpc { max-batch-size = %d, max-readings-in-flight = %d, max-batches-in-flight = 8 }
        """.formatted(BATCH, BATCH));
  }

  private static DeviceServiceGrpc.DeviceServiceBlockingStub devices() {
    return DeviceServiceGrpc.newBlockingStub(node.channel());
  }

  private static void registerAndClaim(String id) {
    devices().registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel("meter-m1").setSerial("SN-" + id).build());
    devices().claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(id).setCustomerId("cust-f").setSiteId("site-f").build());
  }

  private static Device get(String id) {
    return devices().getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build());
  }

  private static Timestamp now() {
    Instant t = Instant.now();
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  private static Reading battery(String id, int percent) {
    return Reading.newBuilder().setDeviceId(id).setObservedAt(now()).setBatteryPercent(percent).build();
  }

  /** Sends the batches on one new stream, completes it and returns its acks, in order. */
  private static List<BatchAck> stream(List<ReadingBatch> batches) throws Exception {
    CompletableFuture<List<BatchAck>> done = new CompletableFuture<>();
    List<BatchAck> acks = new CopyOnWriteArrayList<>();
    StreamObserver<ReadingBatch> in = TelemetryServiceGrpc.newStub(node.channel()).reportStream(new StreamObserver<>() {
      public void onNext(BatchAck ack) {
        acks.add(ack);
      }

      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      public void onCompleted() {
        done.complete(acks);
      }
    });
    batches.forEach(in::onNext);
    in.onCompleted();
    return done.get(60, TimeUnit.SECONDS);
  }

  private static ReadingBatch batch(long id, List<Reading> readings) {
    return ReadingBatch.newBuilder().setBatchId(id).addAllReadings(readings).build();
  }

  @Test
  void readingsBeyondADevicesRateLimitAreRefusedWithAPauseAndChangeNothing() throws Exception {
    registerAndClaim("meter-1");
    List<Reading> six = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      six.add(battery("meter-1", 50 + i));
    }
    BatchAck ack = stream(List.of(batch(1, six))).get(0);
    assertEquals(3, ack.getAccepted(), "a burst of three: " + ack);
    assertEquals(List.of(3, 4, 5), ack.getRejectionsList().stream().map(Rejection::getIndex).toList());
    for (Rejection r : ack.getRejectionsList()) {
      assertEquals("RESOURCE_EXHAUSTED", r.getCode());
      assertEquals("meter-1", r.getDeviceId());
      assertTrue(r.getMessage().contains("0.1 readings per second (bursts of 3)"), r.getMessage());
      long wait = r.getRetryAfter().getSeconds() * 1000 + r.getRetryAfter().getNanos() / 1_000_000;
      assertTrue(wait > 0 && wait <= 10_000, "a reading every 10 s: " + r.getRetryAfter());
    }
    assertEquals(52, get("meter-1").getBatteryPercent(), "the last accepted reading, not a refused one");

    StatusRuntimeException unary = assertThrows(StatusRuntimeException.class,
        () -> TelemetryServiceGrpc.newBlockingStub(node.channel()).report(battery("meter-1", 10)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, unary.getStatus().getCode());
    assertTrue(unary.getStatus().getDescription().contains("send again in"), unary.getStatus().toString());
    Device after = get("meter-1");
    assertEquals(52, after.getBatteryPercent());
    assertTrue(after.getAlertsList().isEmpty(), "no BATTERY_LOW from a refused reading of 10%");

    Eventually.await("a reading accepted once 10 s have passed", Duration.ofSeconds(30), () -> {
      try {
        TelemetryServiceGrpc.newBlockingStub(node.channel()).report(battery("meter-1", 49));
        return true;
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        return false;
      }
    });
    assertEquals(49, get("meter-1").getBatteryPercent());
  }

  /**
   * Eight batches of ten on one stream, with room for ten readings on the node: the batches that
   * arrive while an earlier one is with its twins are refused whole. Each device gets one reading,
   * so afterwards every accepted reading shows and no refused one does.
   */
  @Test
  void batchesBeyondTheNodesBoundAreRefusedWholeAndChangeNothing() throws Exception {
    int refused = 0;
    for (int round = 0; round < 5 && refused == 0; round++) {
      List<ReadingBatch> batches = new ArrayList<>();
      List<CompletableFuture<?>> provisioned = new ArrayList<>();
      for (int b = 0; b < 8; b++) {
        List<Reading> readings = new ArrayList<>();
        for (int i = 0; i < BATCH; i++) {
          String id = "gate-" + round + "-" + b + "-" + i;
          provisioned.add(CompletableFuture.runAsync(() -> registerAndClaim(id)));
          readings.add(battery(id, 40 + b));
        }
        batches.add(batch(b, readings));
      }
      CompletableFuture.allOf(provisioned.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

      List<BatchAck> acks = stream(batches);
      assertEquals(8, acks.size());
      for (int b = 0; b < 8; b++) {
        BatchAck ack = acks.get(b);
        assertEquals(b, ack.getBatchId(), "acks in batch order");
        boolean whole = ack.getAccepted() == 0;
        if (whole) {
          refused++;
          assertEquals(BATCH, ack.getRejectionsCount(), ack.toString());
          for (Rejection r : ack.getRejectionsList()) {
            assertEquals("RESOURCE_EXHAUSTED", r.getCode(), r.toString());
            assertTrue(r.getMessage().contains("max-readings-in-flight = 10"), r.getMessage());
            assertEquals(TelemetryServiceImpl.BUSY_RETRY.toMillis(), r.getRetryAfter().getNanos() / 1_000_000 + r.getRetryAfter().getSeconds() * 1000);
          }
        } else {
          assertEquals(BATCH, ack.getAccepted(), "a batch is taken whole or refused whole: " + ack);
        }
        for (Reading r : batches.get(b).getReadingsList()) {
          Device d = get(r.getDeviceId());
          assertEquals(!whole, d.hasBatteryPercent(), r.getDeviceId());
          assertEquals(!whole, d.hasLastSeen(), "a refused reading is no sign of life");
          if (!whole) {
            assertEquals(40 + b, d.getBatteryPercent());
          }
        }
      }
    }
    assertTrue(refused > 0, "in five rounds no batch met a full node");

    // Every permit came back with the acks: the whole bound is free for the next stream.
    List<Reading> unknown = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      unknown.add(battery("nobody-" + i, 1));
    }
    BatchAck next = stream(List.of(batch(99, unknown))).get(0);
    assertTrue(next.getRejectionsList().stream().allMatch(r -> r.getCode().equals("NOT_FOUND")), next.toString());
  }

  @Test
  void aStreamCancelledWithBatchesInFlightGivesItsPermitsBack() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      ids.add("cancel-" + i);
      registerAndClaim(ids.get(i));
    }
    Collected<BatchAck> acks = new Collected<>();
    ClientCallStreamObserver<ReadingBatch> in =
        (ClientCallStreamObserver<ReadingBatch>) TelemetryServiceGrpc.newStub(node.channel()).reportStream(acks);
    for (int b = 0; b < 8; b++) {
      in.onNext(batch(b, ids.stream().map(id -> battery(id, 70)).toList()));
    }
    in.cancel("the client goes away", null);

    Eventually.await("the node takes a full batch again", Duration.ofSeconds(20), () -> {
      try {
        BatchAck ack = stream(List.of(batch(1, ids.stream().map(id -> battery(id, 71)).toList()))).get(0);
        return ack.getRejectionsList().stream().noneMatch(r -> r.getMessage().contains("max-readings-in-flight"));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
  }
}
