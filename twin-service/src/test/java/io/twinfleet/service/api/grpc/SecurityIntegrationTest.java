package io.twinfleet.service.api.grpc;

import static io.twinfleet.service.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Collected;
import io.twinfleet.service.NodeTestBase;
import io.twinfleet.service.TestNode;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Tokens;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Tokens and roles over real gRPC: no token or a bad one is UNAUTHENTICATED, a role outside its
 * methods PERMISSION_DENIED; an app sees its own customer's devices and sites and nobody else's
 * (answered as if they did not exist); a device reports for itself only; refused calls change nothing.
 */
class SecurityIntegrationTest extends NodeTestBase {

  private static final List<ManagedChannel> opened = new ArrayList<>();

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "");
    DeviceServiceGrpc.DeviceServiceBlockingStub admin = DeviceServiceGrpc.newBlockingStub(node.channel());
    for (String[] d : new String[][] {{"sec-d1", "sec-c1", "sec-s1"}, {"sec-d2", "sec-c2", "sec-s2"}}) {
      admin.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(d[0]).setModel("thermo").setSerial("SN-" + d[0]).build());
      admin.claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(d[0]).setCustomerId(d[1]).setSiteId(d[2]).build());
    }
  }

  @AfterAll
  static void closeChannels() {
    opened.forEach(ManagedChannel::shutdownNow);
  }

  private static ManagedChannel as(String token) {
    ManagedChannel c = node.channel(token);
    opened.add(c);
    return c;
  }

  private static ManagedChannel as(Role role, String customer, String device) {
    return as(TestNode.token(role, customer, device));
  }

  private static StatusRuntimeException refused(Status.Code code, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    return e;
  }

  private static GetDeviceRequest get(String id) {
    return GetDeviceRequest.newBuilder().setDeviceId(id).build();
  }

  private static Device adminView(String id) {
    return DeviceServiceGrpc.newBlockingStub(node.channel()).getDevice(get(id));
  }

  @Test
  void withoutAValidTokenNothingButHealthAnswers() throws Exception {
    ManagedChannel anonymous = as((String) null);
    var e = refused(Status.Code.UNAUTHENTICATED, () -> DeviceServiceGrpc.newBlockingStub(anonymous).getDevice(get("sec-d1")));
    assertEquals(true, e.getStatus().getDescription().contains("authorization: Bearer"), e.getStatus().getDescription());
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        HealthGrpc.newBlockingStub(anonymous).check(HealthCheckRequest.getDefaultInstance()).getStatus());

    byte[] secret = TestNode.SECRET.getBytes(StandardCharsets.UTF_8);
    String expired = Tokens.mint(secret, Role.ADMIN, null, null, Duration.ofMinutes(1), Instant.now().minus(Duration.ofMinutes(10)));
    String forged = Tokens.mint("some-other-secret-of-at-least-32-bytes".getBytes(StandardCharsets.UTF_8), Role.ADMIN, null, null,
        Duration.ofHours(1), Instant.now());
    for (String bad : new String[] {expired, forged, "garbage"}) {
      refused(Status.Code.UNAUTHENTICATED, () -> DeviceServiceGrpc.newBlockingStub(as(bad)).registerDevice(
          RegisterDeviceRequest.newBuilder().setDeviceId("sec-never").setModel("m").setSerial("s").build()));
    }
    refused(Status.Code.NOT_FOUND, () -> adminView("sec-never")); // nothing was registered
  }

  @Test
  void eachRoleCallsItsOwnMethodsOnly() {
    var journey = as(Role.JOURNEY, null, null);
    var app = as(Role.APP, "sec-c1", null);
    var device = as(Role.DEVICE, null, "sec-d1");
    RegisterDeviceRequest register = RegisterDeviceRequest.newBuilder().setDeviceId("sec-d9").setModel("m").setSerial("s").build();
    for (ManagedChannel c : List.of(journey, app, device)) {
      var e = refused(Status.Code.PERMISSION_DENIED, () -> DeviceServiceGrpc.newBlockingStub(c).registerDevice(register));
      assertEquals(true, e.getStatus().getDescription().contains("may not call twinfleet.v1.DeviceService/RegisterDevice"));
    }
    refused(Status.Code.NOT_FOUND, () -> adminView("sec-d9"));
    refused(Status.Code.PERMISSION_DENIED, () -> DeviceServiceGrpc.newBlockingStub(device).getDevice(get("sec-d1")));
    refused(Status.Code.PERMISSION_DENIED, () -> DeviceServiceGrpc.newBlockingStub(journey).getDevice(get("sec-d1")));
    refused(Status.Code.PERMISSION_DENIED, () -> QualityServiceGrpc.newBlockingStub(app).listAlerts(ListAlertsRequest.getDefaultInstance()));
    refused(Status.Code.PERMISSION_DENIED, () -> SiteServiceGrpc.newBlockingStub(app).listSites(ListSitesRequest.getDefaultInstance()));
    // what each may do
    QualityServiceGrpc.newBlockingStub(journey).listAlerts(ListAlertsRequest.getDefaultInstance());
    JourneyServiceGrpc.newBlockingStub(journey).getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId("sec-d2").build());
    assertEquals("sec-c1", DeviceServiceGrpc.newBlockingStub(app).getDevice(get("sec-d1")).getCustomerId());
  }

  @Test
  void anAppSeesItsCustomersDevicesAndSitesAndNobodyElses() throws Exception {
    var app = DeviceServiceGrpc.newBlockingStub(as(Role.APP, "sec-c1", null));
    String missing = refused(Status.Code.NOT_FOUND, () -> DeviceServiceGrpc.newBlockingStub(node.channel()).getDevice(get("sec-none")))
        .getStatus().getDescription();
    String others = refused(Status.Code.NOT_FOUND, () -> app.getDevice(get("sec-d2"))).getStatus().getDescription();
    assertEquals(missing.replace("sec-none", "sec-d2"), others, "another customer's device reads as a missing one");
    Collected<Device> watched = new Collected<>();
    DeviceServiceGrpc.newStub(as(Role.APP, "sec-c1", null)).watchDevice(WatchDeviceRequest.newBuilder().setDeviceId("sec-d2").build(), watched);
    await("the watch of another customer's device ends", Duration.ofSeconds(10), () -> watched.ended != null);
    assertEquals(Status.Code.NOT_FOUND, Status.fromThrowable(watched.ended).getCode());
    assertEquals(0, watched.items.size());

    // the customer's device list is a read model, written within moments of the claim
    await("the app lists its customer's device", Duration.ofSeconds(20), () -> List.of("sec-d1").equals(
        app.listCustomerDevices(ListCustomerDevicesRequest.newBuilder().setCustomerId("sec-c1").build())
            .getDevicesList().stream().map(Device::getDeviceId).toList()));
    refused(Status.Code.PERMISSION_DENIED, () -> app.listCustomerDevices(ListCustomerDevicesRequest.newBuilder().setCustomerId("sec-c2").build()));

    var sites = SiteServiceGrpc.newBlockingStub(as(Role.APP, "sec-c1", null));
    await("the app's site is listed for its customer", Duration.ofSeconds(20), () -> {
      try {
        return sites.getSite(GetSiteRequest.newBuilder().setSiteId("sec-s1").build()).getSiteId().equals("sec-s1");
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
    var admin = SiteServiceGrpc.newBlockingStub(node.channel());
    String noSite = refused(Status.Code.NOT_FOUND, () -> admin.getSite(GetSiteRequest.newBuilder().setSiteId("sec-s9").build()))
        .getStatus().getDescription();
    String othersSite = refused(Status.Code.NOT_FOUND, () -> sites.getSite(GetSiteRequest.newBuilder().setSiteId("sec-s2").build()))
        .getStatus().getDescription();
    assertEquals(noSite.replace("sec-s9", "sec-s2"), othersSite);
    refused(Status.Code.NOT_FOUND, () -> sites.getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId("sec-s2").build()));
    await("it exists: an admin sees it (once the site projection made it)", Duration.ofSeconds(20), () -> {
      try {
        return admin.getSite(GetSiteRequest.newBuilder().setSiteId("sec-s2").build()).getSiteId().equals("sec-s2");
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
  }

  @Test
  void aDeviceReportsForItselfOnly() throws Exception {
    ManagedChannel device = as(Role.DEVICE, null, "sec-d1");
    Function<String, Reading> reading = id -> Reading.newBuilder().setDeviceId(id).setObservedAt(ProtoMapping.timestamp(node.clock().instant()))
        .setBatteryPercent(64).build();
    TelemetryServiceGrpc.newBlockingStub(device).report(reading.apply("sec-d1").toBuilder().setBatteryPercent(77).build());
    assertEquals(77, adminView("sec-d1").getBatteryPercent());
    var e = refused(Status.Code.PERMISSION_DENIED, () -> TelemetryServiceGrpc.newBlockingStub(device).report(reading.apply("sec-d2")));
    assertEquals(true, e.getStatus().getDescription().startsWith("device_id: this token reports for device sec-d1 only"));

    Collected<BatchAck> acks = new Collected<>();
    StreamObserver<ReadingBatch> stream = TelemetryServiceGrpc.newStub(device).reportStream(acks);
    stream.onNext(ReadingBatch.newBuilder().setBatchId(7).addReadings(reading.apply("sec-d1")).addReadings(reading.apply("sec-d2")).build());
    await("the batch is acknowledged", Duration.ofSeconds(10), () -> !acks.items.isEmpty());
    stream.onCompleted();
    BatchAck ack = acks.items.get(0);
    assertEquals(1, ack.getAccepted());
    assertEquals(1, ack.getRejectionsCount());
    assertEquals(1, ack.getRejections(0).getIndex());
    assertEquals("PERMISSION_DENIED", ack.getRejections(0).getCode());
    assertEquals(64, adminView("sec-d1").getBatteryPercent(), "the stream's own reading was applied");
    assertFalse(adminView("sec-d2").hasBatteryPercent(), "the refused readings changed nothing");
    assertFalse(adminView("sec-d2").hasLastSeen());

    refused(Status.Code.PERMISSION_DENIED, () -> {
      Collected<BatchAck> sinkAcks = new Collected<>();
      var headers = new io.grpc.Metadata();
      headers.put(ServiceHeaders.SINK, "baseline");
      TelemetryServiceGrpc.newStub(device).withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
          .reportStream(sinkAcks).onNext(ReadingBatch.newBuilder().setBatchId(1).addReadings(reading.apply("sec-d1")).build());
      await("the sink refuses", Duration.ofSeconds(10), () -> sinkAcks.ended != null);
      throw (StatusRuntimeException) sinkAcks.ended;
    });
  }
}
