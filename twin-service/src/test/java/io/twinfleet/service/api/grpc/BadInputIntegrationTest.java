package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Collected;
import io.twinfleet.service.Eventually;
import io.twinfleet.service.NodeTestBase;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Everything a client can send wrongly gets the status DESIGN names, with a message naming the
 * field, and changes nothing: neither the view nor a single row of the journal.
 */
class BadInputIntegrationTest extends NodeTestBase {

  private Device before;
  private long journalRowsBefore;

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "");
    DeviceServiceGrpc.newBlockingStub(node.channel()).registerDevice(
        RegisterDeviceRequest.newBuilder().setDeviceId("lock-1").setModel("lock-l2").setSerial("SN-9").build());
    DeviceServiceGrpc.newBlockingStub(node.channel()).claimDevice(
        ClaimDeviceRequest.newBuilder().setDeviceId("lock-1").setCustomerId("cust-b").setSiteId("flat-2").build());
    TelemetryServiceGrpc.newBlockingStub(node.channel()).report(
        Reading.newBuilder().setDeviceId("lock-1").setObservedAt(at(Instant.now())).setBatteryPercent(70).build());
  }


  @BeforeEach
  void remember() {
    before = get("lock-1");
    journalRowsBefore = journalRows("lock-1");
  }

  private static Timestamp at(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  private static Device get(String id) {
    return DeviceServiceGrpc.newBlockingStub(node.channel()).getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build());
  }

  private static long journalRows(String deviceId) {
    return keyspace.session()
        .execute("SELECT count(*) FROM messages WHERE persistence_id = ? AND partition_nr = 0", "Device|" + deviceId)
        .one().getLong(0);
  }

  private static StatusRuntimeException refused(Runnable call) {
    return assertThrows(StatusRuntimeException.class, call::run);
  }

  private static void assertRefused(Status.Code code, String fieldOrWords, Runnable call) {
    Status status = refused(call).getStatus();
    assertEquals(code, status.getCode(), status.toString());
    assertTrue(status.getDescription() != null && status.getDescription().contains(fieldOrWords), status.toString());
  }

  private void assertNothingChanged() {
    Device after = get("lock-1");
    assertEquals(DeviceViews.withoutUptime(before).toBuilder().clearLastSeen().build(),
        DeviceViews.withoutUptime(after).toBuilder().clearLastSeen().build());
    assertEquals(before.getUptimeSinceActivation().getOffline(), after.getUptimeSinceActivation().getOffline());
    assertEquals(before.getLastSeen(), after.getLastSeen(), "a refused reading is no sign of life either");
    assertEquals(journalRowsBefore, journalRows("lock-1"));
  }

  private static void report(Reading.Builder reading) {
    TelemetryServiceGrpc.newBlockingStub(node.channel()).report(reading.build());
  }

  /** The status a ReportStream ends with after these batches. */
  private static Status streamStatus(ReadingBatch... batches) throws Exception {
    CompletableFuture<Status> ended = new CompletableFuture<>();
    StreamObserver<ReadingBatch> in = TelemetryServiceGrpc.newStub(node.channel()).reportStream(new StreamObserver<>() {
      @Override
      public void onNext(BatchAck ack) {}

      @Override
      public void onError(Throwable t) {
        ended.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        ended.complete(Status.OK);
      }
    });
    for (ReadingBatch b : batches) {
      in.onNext(b);
    }
    in.onCompleted();
    return ended.get(30, TimeUnit.SECONDS);
  }

  @Test
  void malformedIdsAreInvalidArgumentNamingTheField() {
    assertRefused(Status.Code.INVALID_ARGUMENT, "device_id", () -> get("not an id"));
    assertRefused(Status.Code.INVALID_ARGUMENT, "device_id", () -> get(""));
    assertRefused(Status.Code.INVALID_ARGUMENT, "customer_id", () -> DeviceServiceGrpc.newBlockingStub(node.channel()).claimDevice(
        ClaimDeviceRequest.newBuilder().setDeviceId("lock-1").setCustomerId("cust/x").setSiteId("flat-2").build()));
    assertRefused(Status.Code.INVALID_ARGUMENT, "device_id", () -> report(
        Reading.newBuilder().setDeviceId("-lock").setObservedAt(at(Instant.now()))));
    assertRefused(Status.Code.INVALID_ARGUMENT, "heartbeat_interval", () -> DeviceServiceGrpc.newBlockingStub(node.channel()).registerDevice(
        RegisterDeviceRequest.newBuilder().setDeviceId("lock-2").setModel("m").setSerial("s")
            .setHeartbeatInterval(com.google.protobuf.Duration.newBuilder().setSeconds(1)).build()));
    assertRefused(Status.Code.NOT_FOUND, "lock-2", () -> get("lock-2"));
    assertNothingChanged();
  }

  @Test
  void batteryOf150IsInvalidArgumentAndChangesNothing() {
    assertRefused(Status.Code.INVALID_ARGUMENT, "battery_percent", () -> report(
        Reading.newBuilder().setDeviceId("lock-1").setObservedAt(at(Instant.now())).setBatteryPercent(150)));
    assertNothingChanged();
  }

  @Test
  void aTimestampADayAheadIsInvalidArgumentAndChangesNothing() {
    assertRefused(Status.Code.INVALID_ARGUMENT, "observed_at", () -> report(
        Reading.newBuilder().setDeviceId("lock-1").setObservedAt(at(Instant.now().plus(Duration.ofDays(1)))).setBatteryPercent(5)));
    assertRefused(Status.Code.INVALID_ARGUMENT, "observed_at", () -> report(Reading.newBuilder().setDeviceId("lock-1")));
    assertNothingChanged();
  }

  @Test
  void anEmptyBatchEndsTheStreamWithInvalidArgument() throws Exception {
    Status status = streamStatus(ReadingBatch.newBuilder().setBatchId(9).build());
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(status.getDescription().contains("readings"), status.toString());
    assertNothingChanged();
  }

  @Test
  void aBatchOverTheLimitEndsTheStreamWithInvalidArgumentAndAppliesNothing() throws Exception {
    ReadingBatch.Builder huge = ReadingBatch.newBuilder().setBatchId(10);
    for (int i = 0; i < 1001; i++) {
      huge.addReadings(Reading.newBuilder().setDeviceId("lock-1").setObservedAt(at(Instant.now())).setBatteryPercent(3));
    }
    Status status = streamStatus(huge.build());
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(status.getDescription().contains("1001"), status.toString());
    assertNothingChanged();
  }

  @Test
  void telemetryForAnUnknownDeviceIsNotFoundAndCreatesNoTwin() {
    assertRefused(Status.Code.NOT_FOUND, "ghost-7", () -> report(
        Reading.newBuilder().setDeviceId("ghost-7").setObservedAt(at(Instant.now())).setBatteryPercent(50)));
    assertRefused(Status.Code.NOT_FOUND, "ghost-7", () -> get("ghost-7"));
    assertEquals(0, journalRows("ghost-7"));
    assertNothingChanged();
  }

  private static void touchpoint(RecordTouchpointRequest.Builder req) {
    JourneyServiceGrpc.newBlockingStub(node.channel()).recordTouchpoint(req.build());
  }

  @Test
  void badTouchpointsAreRefusedNamingTheFieldAndStoreNothing() {
    RecordTouchpointRequest.Builder ok = RecordTouchpointRequest.newBuilder()
        .setDeviceId("lock-1").setKind(TouchpointKind.SUPPORT_CONTACT).setNote("called");
    assertRefused(Status.Code.INVALID_ARGUMENT, "kind", () -> touchpoint(ok.clone().clearKind()));
    assertRefused(Status.Code.INVALID_ARGUMENT, "kind", () -> touchpoint(ok.clone().setKindValue(99)));
    assertRefused(Status.Code.INVALID_ARGUMENT, "note", () -> touchpoint(ok.clone().setNote("x".repeat(2_001))));
    assertRefused(Status.Code.INVALID_ARGUMENT, "note", () -> touchpoint(ok.clone().setNote("bell\u0007")));
    assertRefused(Status.Code.INVALID_ARGUMENT, "touchpoint_id", () -> touchpoint(ok.clone().setTouchpointId("no spaces")));
    assertRefused(Status.Code.INVALID_ARGUMENT, "at", () -> touchpoint(ok.clone().setAt(at(Instant.now().plus(Duration.ofDays(1))))));
    assertRefused(Status.Code.FAILED_PRECONDITION, "before", () -> touchpoint(ok.clone().setAt(at(Instant.parse("2020-01-01T00:00:00Z")))));
    assertRefused(Status.Code.NOT_FOUND, "ghost-2", () -> touchpoint(ok.clone().setDeviceId("ghost-2")));
    assertRefused(Status.Code.NOT_FOUND, "ghost-2", () -> JourneyServiceGrpc.newBlockingStub(node.channel())
        .getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId("ghost-2").build()));
    assertEquals(0, JourneyServiceGrpc.newBlockingStub(node.channel())
        .getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId("lock-1").build()).getTouchpointsCount());
    assertNothingChanged();
  }

  @Test
  void decommissionWithoutAReasonIsInvalidArgument() {
    assertRefused(Status.Code.INVALID_ARGUMENT, "reason", () -> DeviceServiceGrpc.newBlockingStub(node.channel()).decommissionDevice(
        DecommissionDeviceRequest.newBuilder().setDeviceId("lock-1").build()));
    assertNothingChanged();
  }

  @Test
  void badPagingIsInvalidArgument() {
    assertRefused(Status.Code.INVALID_ARGUMENT, "page_size", () -> DeviceServiceGrpc.newBlockingStub(node.channel()).listCustomerDevices(
        ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-b").setPageSize(501).build()));
    assertRefused(Status.Code.INVALID_ARGUMENT, "page_token", () -> DeviceServiceGrpc.newBlockingStub(node.channel()).listCustomerDevices(
        ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-b").setPageToken("%%%").build()));
  }

  @Test
  void durationsBeyondTheirSpecAreInvalidArgumentNotAnError() {
    com.google.protobuf.Duration overflow = com.google.protobuf.Duration.newBuilder().setSeconds(Long.MIN_VALUE).setNanos(-1).build();
    assertRefused(Status.Code.INVALID_ARGUMENT, "heartbeat_interval: not a valid duration", () -> DeviceServiceGrpc.newBlockingStub(node.channel())
        .registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId("lock-3").setModel("m").setSerial("s").setHeartbeatInterval(overflow).build()));
    assertRefused(Status.Code.INVALID_ARGUMENT, "window: not a valid duration", () -> QualityServiceGrpc.newBlockingStub(node.channel())
        .getFleetQuality(GetFleetQualityRequest.newBuilder().setWindow(overflow).build()));
    com.google.protobuf.Duration mixedSigns = com.google.protobuf.Duration.newBuilder().setSeconds(60).setNanos(-5).build();
    assertRefused(Status.Code.INVALID_ARGUMENT, "window: not a valid duration", () -> QualityServiceGrpc.newBlockingStub(node.channel())
        .getFleetQuality(GetFleetQualityRequest.newBuilder().setWindow(mixedSigns).build()));
    assertRefused(Status.Code.NOT_FOUND, "lock-3", () -> get("lock-3"));
  }

  @Test
  void siteFieldsOutOfBoundsAreInvalidArgumentAndShortToRead() {
    SiteServiceGrpc.SiteServiceBlockingStub sites = SiteServiceGrpc.newBlockingStub(node.channel());
    Status month = refused(() -> sites.getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId("flat-2").setMonth("2026-".repeat(20_000)).build())).getStatus();
    assertEquals(Status.Code.INVALID_ARGUMENT, month.getCode());
    assertTrue(month.getDescription().startsWith("month: ") && month.getDescription().length() < 200, month.getDescription());

    DeclareMaintenanceRequest.Builder window = DeclareMaintenanceRequest.newBuilder().setSiteId("flat-2").setWindowId("w-1").setReason("works");
    Instant far = Instant.parse("4000-01-01T00:00:00Z");
    assertRefused(Status.Code.INVALID_ARGUMENT, "start: ", () -> sites.declareMaintenance(window.clone().setStart(at(far)).setEnd(at(far.plus(Duration.ofDays(1)))).build()));
    Instant old = Instant.parse("2001-01-01T00:00:00Z");
    assertRefused(Status.Code.INVALID_ARGUMENT, "end: ", () -> sites.declareMaintenance(window.clone().setStart(at(old)).setEnd(at(old.plus(Duration.ofDays(1)))).build()));
  }

  @Test
  void aResumeTokenPointingBeforeTheJournalIsRefused() {
    // a version-1 UUID of 1582, the UUID epoch: decodes fine, but no offset of this service is that old
    String ancient = new java.util.UUID(0x0000000000001000L, 0x8000000000000000L).toString();
    String token = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        ("s1," + String.join(",", java.util.Collections.nCopies(4, ancient))).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertRefused(Status.Code.INVALID_ARGUMENT, "resume_token: ", () -> JourneyServiceGrpc.newBlockingStub(node.channel())
        .watchStageChanges(WatchStageChangesRequest.newBuilder().setResumeToken(token).build()).hasNext());
  }

  @Test
  void aCustomerListingTakesOnlyItsOwnPageTokens() {
    String bareId = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("lock-1".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertRefused(Status.Code.INVALID_ARGUMENT, "page_token", () -> DeviceServiceGrpc.newBlockingStub(node.channel()).listCustomerDevices(
        ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-b").setPageToken(bareId).build()));
  }

  @Test
  void aBadBatchEndsTheStreamAfterTheAcksOfTheBatchesBeforeIt() throws Exception {
    Collected<BatchAck> acks = new Collected<>();
    StreamObserver<ReadingBatch> in = TelemetryServiceGrpc.newStub(node.channel()).reportStream(acks);
    in.onNext(ReadingBatch.newBuilder().setBatchId(1).addReadings(Reading.newBuilder().setDeviceId("ghost-8").setObservedAt(at(Instant.now()))).build());
    in.onNext(ReadingBatch.newBuilder().setBatchId(-1).build());
    in.onCompleted();
    Eventually.await("the stream ends", Duration.ofSeconds(30), () -> acks.ended != null);
    assertEquals(1, acks.items.size(), "the first batch's ack comes before the error");
    assertEquals(1, acks.items.get(0).getBatchId());
    Status status = Status.fromThrowable(acks.ended);
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(status.getDescription().startsWith("batch 18446744073709551615: readings: "), status.getDescription());
  }

  @Test
  void aMessageOverTheInboundLimitIsRefusedByTheTransport() {
    Status status = refused(() -> DeviceServiceGrpc.newBlockingStub(node.channel()).getDevice(
        GetDeviceRequest.newBuilder().setDeviceId("x".repeat(5 * 1024 * 1024)).build())).getStatus();
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
    assertNothingChanged();
  }
}
