package io.twinfleet.service.api.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.Alert;
import io.twinfleet.protocol.v1.AlertState;
import io.twinfleet.protocol.v1.ClaimDeviceRequest;
import io.twinfleet.protocol.v1.DeviceJourney;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceJourneyRequest;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.GetStageFunnelRequest;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.Reading;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import io.twinfleet.service.Eventually;
import io.twinfleet.service.NodeTestBase;
import io.twinfleet.service.TestNode;
import com.google.protobuf.util.Timestamps;
import io.twinfleet.service.security.Role;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ops HTTP port of a real node: Prometheus metrics of every part the operators watch, the JSON
 * API the dashboard reads (the gRPC API's methods, with the caller's rights and the same answers),
 * the overview, and the dashboard's own files, which name nothing outside the node.
 */
class OpsHttpIntegrationTest extends NodeTestBase {

  private static final HttpClient http = HttpClient.newHttpClient();
  private static final ObjectMapper json = new ObjectMapper();
  private static String journey;

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "");
    journey = TestNode.token(Role.JOURNEY, null, null);
    DeviceServiceGrpc.DeviceServiceBlockingStub admin = DeviceServiceGrpc.newBlockingStub(node.channel());
    admin.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId("ops-d1").setModel("thermo").setSerial("SN-1").build());
    admin.claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId("ops-d1").setCustomerId("ops-c1").setSiteId("ops-s1").build());
    TelemetryServiceGrpc.TelemetryServiceBlockingStub telemetry = TelemetryServiceGrpc.newBlockingStub(node.channel());
    telemetry.report(Reading.newBuilder().setDeviceId("ops-d1").setObservedAt(Timestamps.fromMillis(node.clock().instant().toEpochMilli())).setBatteryPercent(80).build());
    try {
      telemetry.report(Reading.newBuilder().setDeviceId("ops-d1").setObservedAt(Timestamps.fromMillis(node.clock().instant().toEpochMilli())).setBatteryPercent(150).build());
    } catch (StatusRuntimeException expected) {
      // counted as refused
    }
    // A flat battery raises alert ops-d1/1.
    telemetry.report(Reading.newBuilder().setDeviceId("ops-d1").setObservedAt(Timestamps.fromMillis(node.clock().instant().toEpochMilli() + 1000))
        .setBatteryPercent(10).build());
  }

  private static AlertState alertState(String alertId) {
    return DeviceServiceGrpc.newBlockingStub(node.channel()).getDevice(GetDeviceRequest.newBuilder().setDeviceId("ops-d1").build())
        .getAlertsList().stream().filter(a -> a.getAlertId().equals(alertId)).map(Alert::getState).findFirst().orElseThrow();
  }

  private static HttpResponse<String> get(String path, String token) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String method, String body, String token, String contentType) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/" + method))
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the first sample of {@code name} whose labels contain {@code labels}, or -1. */
  private static double sample(String metrics, String name, String labels) {
    Matcher m = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$", Pattern.MULTILINE).matcher(metrics);
    while (m.find()) {
      if (m.group(1) == null ? labels.isEmpty() : m.group(1).contains(labels)) {
        return Double.parseDouble(m.group(2));
      }
    }
    return -1;
  }

  @Test
  void metricsShowReadingsEventsTwinsShardsProjectionsGrpcCassandraAndTheJvm() throws Exception {
    Eventually.await("the shard statistics count the twin", Duration.ofSeconds(30),
        () -> sample(metrics(), "twinfleet_twins_live", "entity=\"Device\"") >= 1);
    Eventually.await("a projection handled an event", Duration.ofSeconds(30),
        () -> sample(metrics(), "twinfleet_projection_lag_seconds_count", "projection=\"device-read-models") >= 1);
    String m = metrics();
    assertEquals(3, sample(m, "twinfleet_readings_received_total", ""), m);
    assertEquals(2, sample(m, "twinfleet_readings_answered_total", "outcome=\"accepted\""));
    assertEquals(1, sample(m, "twinfleet_readings_answered_total", "outcome=\"INVALID_ARGUMENT\""));
    assertEquals(1, sample(m, "twinfleet_events_persisted_total", "entity=\"Device\",event=\"DeviceRegistered\""));
    assertEquals(1, sample(m, "twinfleet_events_persisted_total", "entity=\"Device\",event=\"DeviceClaimed\""));
    assertTrue(sample(m, "twinfleet_shards", "entity=\"Device\"") >= 1);
    assertTrue(sample(m, "grpc_server_processing_duration_seconds_count", "method=\"RegisterDevice\"") >= 1);
    assertTrue(m.contains("statusCode=\"INVALID_ARGUMENT\""), "gRPC calls by status");
    assertTrue(sample(m, "cassandra_session_cql_requests_seconds_count", "") > 0, "the driver's requests");
    assertEquals(0, sample(m, "cassandra_nodes_errors_request_write_timeouts_total", ""), "the driver's errors, none so far");
    assertTrue(sample(m, "jvm_memory_used_bytes", "area=\"heap\"") > 0);
  }

  private static String metrics() {
    try {
      HttpResponse<String> r = get("/metrics", null);
      assertEquals(200, r.statusCode());
      return r.body();
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theJsonApiAnswersAsTheGrpcApiWithTheCallersRights() throws Exception {
    HttpResponse<String> ok = post("twinfleet.v1.JourneyService/GetDeviceJourney", "{\"device_id\":\"ops-d1\"}", journey, "application/json");
    assertEquals(200, ok.statusCode(), ok.body());
    DeviceJourney.Builder viaHttp = DeviceJourney.newBuilder();
    JsonFormat.parser().merge(ok.body(), viaHttp);
    DeviceJourney viaGrpc = JourneyServiceGrpc.newBlockingStub(node.channel()).getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId("ops-d1").build());
    assertEquals(viaGrpc.toBuilder().clearChurnRisk().build(), viaHttp.clearChurnRisk().build(), "the same journey (churn risk is scored as asked)");
    assertTrue(ok.body().contains("\"customer_id\":\"ops-c1\""), "field names as in the .proto");

    assertError(post("twinfleet.v1.JourneyService/GetDeviceJourney", "{\"device_id\":\"ops-nobody\"}", journey, "application/json"),
        404, "NOT_FOUND", "ops-nobody");
    assertError(post("twinfleet.v1.JourneyService/GetStageFunnel", "{}", null, "application/json"), 401, "UNAUTHENTICATED", "bearer");
    assertError(post("twinfleet.v1.JourneyService/GetStageFunnel", "{}", TestNode.token(Role.APP, "ops-c1", null), "application/json"),
        403, "PERMISSION_DENIED", "GetStageFunnel");
    assertError(post("twinfleet.v1.JourneyService/GetDeviceJourney", "{\"device\":\"ops-d1\"}", journey, "application/json"),
        400, "INVALID_ARGUMENT", "device");
    assertError(post("twinfleet.v1.JourneyService/GetDeviceJourney", "{\"device_id\":", journey, "application/json"), 400, "INVALID_ARGUMENT", "JSON");
    assertError(post("twinfleet.v1.JourneyService/GetDeviceJourney", "{\"device_id\":\"ops-d1\"}", journey, "text/plain"),
        415, "INVALID_ARGUMENT", "application/json");
    assertError(post("twinfleet.v1.JourneyService/Nothing", "{}", journey, "application/json"), 404, "UNIMPLEMENTED", "Nothing");
    assertError(post("twinfleet.v1.DeviceService/WatchDevice", "{}", journey, "application/json"), 404, "UNIMPLEMENTED", "WatchDevice");
    assertError(post("twinfleet.v1.JourneyService/GetDeviceJourney", "{\"device_id\":\"" + "x".repeat(70_000) + "\"}", journey, "application/json"),
        413, "RESOURCE_EXHAUSTED", "bytes");
    assertError(get("/api/twinfleet.v1.JourneyService/GetStageFunnel", journey), 404, "UNIMPLEMENTED", "POST /api/");
    assertError(get("/api/nothing/here/at/all", journey), 404, "UNIMPLEMENTED", "GET /api/overview");
  }

  @Test
  void onlyTheDashboardsWritesAreOnTheApiAndOnlyAsJson() throws Exception {
    String admin = TestNode.token(Role.ADMIN, null, null);
    // Other writes stay on the gRPC port, even for an admin: the device is not decommissioned.
    assertError(post("twinfleet.v1.DeviceService/DecommissionDevice", "{\"device_id\":\"ops-d1\",\"reason\":\"RETURNED\"}", admin,
        "application/json"), 404, "UNIMPLEMENTED", "not on the dashboard's API");
    assertFalse(DeviceServiceGrpc.newBlockingStub(node.channel()).getDevice(GetDeviceRequest.newBuilder().setDeviceId("ops-d1").build())
        .getDecommissioned());

    Eventually.await("the battery alert is raised", Duration.ofSeconds(30), () -> {
      try {
        return alertState("ops-d1/1") == AlertState.ALERT_OPEN;
      } catch (java.util.NoSuchElementException notYet) {
        return false;
      }
    });
    // What a page of another site could send without asking the browser first: refused, and nothing changes.
    String ack = "{\"alert_id\":\"ops-d1/1\",\"note\":\"from elsewhere\"}";
    assertError(post("twinfleet.v1.QualityService/AcknowledgeAlert", ack, journey, "text/plain"), 415, "INVALID_ARGUMENT", "application/json");
    assertError(post("twinfleet.v1.QualityService/AcknowledgeAlert", ack, journey, "application/x-www-form-urlencoded"), 415, "INVALID_ARGUMENT",
        "application/json");
    assertError(post("twinfleet.v1.QualityService/AcknowledgeAlert", ack, TestNode.token(Role.APP, "ops-c1", null), "application/json"),
        403, "PERMISSION_DENIED", "AcknowledgeAlert");
    assertError(post("twinfleet.v1.QualityService/AcknowledgeAlert", "{\"alert_id\":\"ops-d1/9\"}", journey, "application/json"),
        404, "NOT_FOUND", "ops-d1");
    assertEquals(AlertState.ALERT_OPEN, alertState("ops-d1/1"));

    HttpResponse<String> done = post("twinfleet.v1.QualityService/AcknowledgeAlert", ack, journey, "application/json");
    assertEquals(200, done.statusCode(), done.body());
    assertEquals("ALERT_ACKNOWLEDGED", json.readTree(done.body()).path("state").asText());
    assertEquals(AlertState.ALERT_ACKNOWLEDGED, alertState("ops-d1/1"));
  }

  private static void assertError(HttpResponse<String> r, int status, String code, String inMessage) throws IOException {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode body = json.readTree(r.body());
    assertEquals(code, body.path("code").asText(), r.body());
    assertTrue(body.path("message").asText().contains(inMessage), r.body());
  }

  @Test
  void theOverviewCountsTheFleetAsTheApiDoes() throws Exception {
    Eventually.await("the journey read model counts the claimed device", Duration.ofSeconds(30), () -> JourneyServiceGrpc
        .newBlockingStub(node.channel()).getStageFunnel(GetStageFunnelRequest.getDefaultInstance()).getDevices() == 1);
    HttpResponse<String> r = get("/api/overview", journey);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode o = json.readTree(r.body());
    assertEquals(1, o.path("devices_claimed").asLong(), r.body());
    assertEquals(6, o.path("stages").size(), "ONBOARDING to END_OF_LIFE");
    assertEquals("86400s", o.path("uptime_window").asText());
    assertTrue(o.path("as_of").asText().endsWith("Z"));
    assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""), "figures are never cached");
    assertError(get("/api/overview", null), 401, "UNAUTHENTICATED", "bearer");
  }

  @Test
  void theDashboardIsServedWholeAndNamesNothingOutsideTheNode() throws Exception {
    HttpResponse<String> page = get("/", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    assertTrue(page.body().contains("<title>Twinfleet</title>"));
    for (String asset : new String[] {"index.html", "app.js", "app.css"}) {
      String text;
      try (InputStream in = OpsRoutes.class.getClassLoader().getResourceAsStream("dashboard/" + asset)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      Matcher url = Pattern.compile("(https?:)?//[A-Za-z0-9.-]+\\.[a-z]{2,}").matcher(text);
      while (url.find()) {
        assertEquals("http://www.w3.org", url.group(), asset + " names only the SVG namespace, which is never fetched");
      }
      assertEquals(200, get(asset.equals("index.html") ? "/" : "/" + asset, null).statusCode(), asset);
    }
  }
}
