package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.BatchAck;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.Reading;
import io.twinfleet.protocol.v1.ReadingBatch;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import io.twinfleet.service.NodeTestBase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The headers besides the messages: every response tells the service clock and its speed, and a
 * ReportStream may ask for the baseline sink, which accepts readings without touching any twin.
 */
class ServiceHeadersIntegrationTest extends NodeTestBase {

  private static final Metadata.Key<String> CLOCK = Metadata.Key.of("twinfleet-clock", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> SINK = Metadata.Key.of("twinfleet-sink", Metadata.ASCII_STRING_MARSHALLER);

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "twinfleet.clock.speed = 100");
  }


  @Test
  void everyResponseCarriesTheServiceClockAndItsSpeed() {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    Instant before = Instant.now();
    HealthGrpc.newBlockingStub(node.channel())
        .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
        .check(HealthCheckRequest.getDefaultInstance());
    String clock = headers.get().get(CLOCK);
    assertNotNull(clock);
    String[] parts = clock.split(" speed=");
    assertEquals(100.0, Double.parseDouble(parts[1]));
    Instant serviceNow = Instant.parse(parts[0]);
    assertTrue(serviceNow.isAfter(before), "an accelerated clock runs ahead of real time: " + serviceNow + " vs " + before);
    // and on a call that fails at once, in its trailers
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> DeviceServiceGrpc.newBlockingStub(node.channel())
        .getDevice(GetDeviceRequest.newBuilder().setDeviceId("nobody-here").build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertNotNull(e.getTrailers().get(CLOCK), "the clock on an error response");
  }

  @Test
  void theBaselineSinkAcceptsReadingsAndCreatesNoTwin() throws Exception {
    List<BatchAck> acks = new ArrayList<>();
    Status status = stream("baseline", acks, "never-registered-1", "never-registered-2");
    assertEquals(Status.Code.OK, status.getCode());
    assertEquals(1, acks.size());
    assertEquals(2, acks.get(0).getAccepted(), "the sink accepts readings for any id");
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> DeviceServiceGrpc.newBlockingStub(node.channel())
        .getDevice(GetDeviceRequest.newBuilder().setDeviceId("never-registered-1").build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), "no twin was made");
  }

  @Test
  void anUnknownSinkIsInvalidArgument() throws Exception {
    Status status = stream("elsewhere", new ArrayList<>(), "any-device");
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(status.getDescription().contains("twinfleet-sink"), status.getDescription());
  }

  private static Status stream(String sink, List<BatchAck> acks, String... deviceIds) throws Exception {
    Metadata headers = new Metadata();
    headers.put(SINK, sink);
    CompletableFuture<Status> ended = new CompletableFuture<>();
    StreamObserver<ReadingBatch> in = TelemetryServiceGrpc.newStub(node.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .reportStream(new StreamObserver<>() {
          @Override
          public void onNext(BatchAck ack) {
            acks.add(ack);
          }

          @Override
          public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            ended.complete(Status.OK);
          }
        });
    Instant now = Instant.now();
    ReadingBatch.Builder batch = ReadingBatch.newBuilder().setBatchId(1);
    for (String id : deviceIds) {
      batch.addReadings(Reading.newBuilder().setDeviceId(id)
          .setObservedAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano())));
    }
    in.onNext(batch.build());
    in.onCompleted();
    return ended.get(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS);
  }
}
