package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Eventually;
import io.twinfleet.service.NodeTestBase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole path, as a client sees it: real gRPC over loopback into a service node whose twins
 * persist into the forked Cassandra; then a graceful restart, after which every view must be as it
 * was.
 */
class DeviceLifecycleIntegrationTest extends NodeTestBase {


  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "");
  }


  private static DeviceServiceGrpc.DeviceServiceBlockingStub devices() {
    return DeviceServiceGrpc.newBlockingStub(node.channel()).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static TelemetryServiceGrpc.TelemetryServiceBlockingStub telemetry() {
    return TelemetryServiceGrpc.newBlockingStub(node.channel()).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static Timestamp now() {
    Instant t = Instant.now();
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  /** Whether a watch actor of {@code deviceId} runs on the node (one answers an Identify). */
  private static boolean watching(String deviceId) {
    var watchers = org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(node.system()).actorSelection("/system/watch-" + deviceId + "-*");
    try {
      Object answer = org.apache.pekko.pattern.Patterns.ask(watchers, new org.apache.pekko.actor.Identify(1), Duration.ofSeconds(2))
          .toCompletableFuture().get(3, TimeUnit.SECONDS);
      return answer instanceof org.apache.pekko.actor.ActorIdentity id && id.getActorRef().isPresent();
    } catch (Exception noAnswer) {
      return false; // a selection with a wildcard that matches nothing does not answer
    }
  }

  private static Device get(String id) {
    return devices().getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build());
  }

  private static Device register(String id, String model) {
    return devices().registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel(model).setSerial("SN-" + id).build());
  }

  private static Device claim(String id, String customer, String site) {
    return devices().claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(id).setCustomerId(customer).setSiteId(site).build());
  }

  private static Status.Code codeOf(Runnable call) {
    return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
  }

  /** Sends batches on one ReportStream and returns the acks, or the stream's error. */
  private static List<Object> stream(List<ReadingBatch> batches) throws Exception {
    List<Object> results = new ArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<ReadingBatch> requests = TelemetryServiceGrpc.newStub(node.channel()).reportStream(new StreamObserver<>() {
      @Override
      public void onNext(BatchAck ack) {
        synchronized (results) {
          results.add(ack);
        }
      }

      @Override
      public void onError(Throwable t) {
        synchronized (results) {
          results.add(Status.fromThrowable(t));
        }
        done.complete(null);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    batches.forEach(requests::onNext);
    requests.onCompleted();
    done.get(30, TimeUnit.SECONDS);
    return results;
  }

  private static <T> T eventually(Supplier<T> attempt, java.util.function.Predicate<T> ok) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    T last = attempt.get();
    while (!ok.test(last) && System.nanoTime() < deadline) {
      Thread.sleep(250);
      last = attempt.get();
    }
    assertTrue(ok.test(last), "not reached in time: " + last);
    return last;
  }

  @Test
  void healthReflectionAndReadinessAreServed() throws Exception {
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        HealthGrpc.newBlockingStub(node.channel()).check(HealthCheckRequest.newBuilder().setService("twinfleet.v1.DeviceService").build()).getStatus());

    CompletableFuture<ServerReflectionResponse> listed = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> reflection = ServerReflectionGrpc.newStub(node.channel())
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
            listed.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            listed.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    reflection.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> services = listed.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
        .map(s -> s.getName()).collect(Collectors.toList());
    reflection.onCompleted();
    assertTrue(services.containsAll(List.of("twinfleet.v1.DeviceService", "twinfleet.v1.TelemetryService", "grpc.health.v1.Health")), services.toString());

    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> ready = eventually(
        () -> {
          try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        },
        r -> r.statusCode() == 200);
    assertEquals(200, ready.statusCode());
    assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/alive")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  void walksRegisterClaimStreamWatchDecommissionAndSurvivesARestart() throws Exception {
    Device registered = register("therm-1", "thermostat-t3");
    assertEquals(Stage.UNCLAIMED, registered.getStage());
    assertEquals(registered, register("therm-1", "thermostat-t3"), "registering again with the same data is idempotent");
    assertEquals(Status.Code.ALREADY_EXISTS, codeOf(() -> register("therm-1", "camera-c1")));
    register("charger-1", "charger-ac22");

    assertEquals(Stage.ONBOARDING, claim("therm-1", "cust-a", "home-1").getStage());
    claim("charger-1", "cust-a", "home-1");

    // A watcher sees the current view first, then every change.
    BlockingQueue<Device> watched = new LinkedBlockingQueue<>();
    var watchCall = io.grpc.Context.current().withCancellation();
    watchCall.run(() -> DeviceServiceGrpc.newStub(node.channel()).watchDevice(
        WatchDeviceRequest.newBuilder().setDeviceId("therm-1").build(), new StreamObserver<>() {
          @Override
          public void onNext(Device d) {
            watched.add(d);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        }));
    Device first = watched.poll(10, TimeUnit.SECONDS);
    assertNotNull(first);
    assertEquals(Stage.ONBOARDING, first.getStage());

    List<Object> acks = stream(List.of(
        ReadingBatch.newBuilder().setBatchId(1)
            .addReadings(Reading.newBuilder().setDeviceId("therm-1").setObservedAt(now()).setBatteryPercent(80).setFirmwareVersion("2.0.1"))
            .addReadings(Reading.newBuilder().setDeviceId("charger-1").setObservedAt(now()).setBatteryPercent(15).setInUse(true)
                .setFaults(FaultSet.newBuilder().addFaults(ReportedFault.newBuilder().setCode("E17").setSeverity(Severity.WARNING))))
            .addReadings(Reading.newBuilder().setDeviceId("ghost-1").setObservedAt(now()))
            .addReadings(Reading.newBuilder().setDeviceId("therm-1").setObservedAt(now()).setBatteryPercent(150))
            .build(),
        ReadingBatch.newBuilder().setBatchId(2)
            .addReadings(Reading.newBuilder().setDeviceId("therm-1").setObservedAt(now()))
            .build()));
    assertEquals(2, acks.size(), acks.toString());
    BatchAck ack1 = (BatchAck) acks.get(0);
    assertEquals(1, ack1.getBatchId());
    assertEquals(2, ack1.getAccepted());
    assertEquals(List.of("2:ghost-1:NOT_FOUND", "3:therm-1:INVALID_ARGUMENT"),
        ack1.getRejectionsList().stream().map(r -> r.getIndex() + ":" + r.getDeviceId() + ":" + r.getCode()).sorted().toList());
    assertTrue(ack1.getRejectionsList().stream().anyMatch(r -> r.getMessage().contains("readings[3].battery_percent")));
    assertEquals(2, ((BatchAck) acks.get(1)).getBatchId());
    assertEquals(1, ((BatchAck) acks.get(1)).getAccepted());

    Device therm = get("therm-1");
    assertEquals(Stage.DAY_30, therm.getStage(), "the first report after the claim activated it");
    assertTrue(therm.hasActivatedAt());
    assertTrue(therm.getOnline());
    assertEquals(80, therm.getBatteryPercent());
    assertEquals("2.0.1", therm.getFirmwareVersion());
    assertTrue(therm.getWorking());
    assertEquals(1.0, therm.getUptimeSinceActivation().getRatio(), "never offline since its activation");
    assertEquals(0, therm.getUptimeSinceActivation().getOffline().getSeconds());
    assertEquals(therm.getUptimeSinceActivation(), therm.getUptime24H(), "its whole life lies in the last 24 hours");
    assertFalse(registered.hasUptimeSinceActivation(), "no uptime before activation");

    // The journey team calls the customer; a retry of the same request is the same touchpoint.
    var journeys = JourneyServiceGrpc.newBlockingStub(node.channel());
    RecordTouchpointRequest call = RecordTouchpointRequest.newBuilder().setDeviceId("therm-1").setTouchpointId("call-1")
        .setKind(TouchpointKind.ONBOARDING_CALL).setNote("Walked through the app.").build();
    Touchpoint recorded = journeys.recordTouchpoint(call);
    assertEquals(recorded, journeys.recordTouchpoint(call));
    assertEquals(Status.Code.ALREADY_EXISTS, codeOf(() -> journeys.recordTouchpoint(call.toBuilder().setKind(TouchpointKind.UPSELL).build())));
    DeviceJourney journey = journeys.getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId("therm-1").build());
    assertEquals(List.of(Stage.ONBOARDING, Stage.DAY_30), journey.getStageChangesList().stream().map(StageChange::getTo).toList());
    assertEquals(therm.getActivatedAt(), journey.getStageChanges(1).getAt());
    assertEquals(List.of(recorded), journey.getTouchpointsList());

    Device charger = get("charger-1");
    assertTrue(charger.getBatteryLow());
    assertTrue(charger.getInUse());
    assertFalse(charger.getAvailable());
    assertEquals("E17", charger.getFaults(0).getCode());

    Device changed = eventually(() -> watched.peek() == null ? null : drainLast(watched, first),
        d -> d != null && d.getStage() == Stage.DAY_30 && d.getBatteryPercent() == 80);
    assertEquals("2.0.1", changed.getFirmwareVersion());
    assertTrue(watching("therm-1"), "the watch's actor, while the client watches");
    watchCall.cancel(null);
    Eventually.await("the watch's actor stops when its client cancels", Duration.ofSeconds(10), () -> !watching("therm-1"));

    ListCustomerDevicesResponse listed = eventually(
        () -> devices().listCustomerDevices(ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-a").build()),
        r -> r.getDevicesCount() == 2);
    assertEquals(List.of("charger-1", "therm-1"), listed.getDevicesList().stream().map(Device::getDeviceId).toList());
    ListCustomerDevicesResponse page1 = devices().listCustomerDevices(
        ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-a").setPageSize(1).build());
    assertEquals(List.of("charger-1"), page1.getDevicesList().stream().map(Device::getDeviceId).toList());
    ListCustomerDevicesResponse page2 = devices().listCustomerDevices(
        ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-a").setPageSize(1).setPageToken(page1.getNextPageToken()).build());
    assertEquals(List.of("therm-1"), page2.getDevicesList().stream().map(Device::getDeviceId).toList());
    assertEquals("", page2.getNextPageToken());

    Device retired = devices().decommissionDevice(
        DecommissionDeviceRequest.newBuilder().setDeviceId("charger-1").setReason(DecommissionReason.BROKEN).build());
    assertEquals(Stage.END_OF_LIFE, retired.getStage());
    assertEquals(Status.Code.FAILED_PRECONDITION,
        codeOf(() -> telemetry().report(Reading.newBuilder().setDeviceId("charger-1").setObservedAt(now()).build())));
    eventually(() -> devices().listCustomerDevices(ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-a").build()),
        r -> r.getDevicesCount() == 1);

    // Stop everything, start again: every view is as it was.
    Device thermBefore = get("therm-1");
    Device chargerBefore = get("charger-1");
    DeviceJourney journeyBefore = journeys.getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId("therm-1").build());
    restartNode();
    Device thermAfter = get("therm-1");
    assertEquals(DeviceViews.withoutUptime(thermBefore), DeviceViews.withoutUptime(thermAfter));
    assertEquals(thermBefore.getUptimeSinceActivation().getOffline(), thermAfter.getUptimeSinceActivation().getOffline());
    assertTrue(Durations.compare(thermAfter.getUptimeSinceActivation().getCounted(), thermBefore.getUptimeSinceActivation().getCounted()) > 0,
        "an active device's life goes on");
    assertEquals(chargerBefore, get("charger-1"), "a retired device's view, uptime included, never changes");
    assertEquals(journeyBefore, JourneyServiceGrpc.newBlockingStub(node.channel())
        .getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId("therm-1").build()));
    assertEquals(List.of("charger-1", "therm-1"), devices().listCustomerDevices(
        ListCustomerDevicesRequest.newBuilder().setCustomerId("cust-a").setIncludeDecommissioned(true).build())
        .getDevicesList().stream().map(Device::getDeviceId).toList());
  }

  private static Device drainLast(BlockingQueue<Device> q, Device fallback) {
    Device last = fallback;
    for (Device d; (d = q.poll()) != null; ) {
      last = d;
    }
    return last;
  }
}
