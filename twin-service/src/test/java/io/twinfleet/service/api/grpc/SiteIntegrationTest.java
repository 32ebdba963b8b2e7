package io.twinfleet.service.api.grpc;

import static io.twinfleet.service.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Collected;
import io.twinfleet.service.NodeTestBase;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A car park of three chargers and a home with one thermostat, on a real service at 60x: devices'
 * reports and silences reach their sites; GetSite, ListSites (filters), WatchSite and GetSiteSla
 * agree with what the test drove; maintenance and targets change the SLA; bad requests get their
 * status and change nothing; a restart keeps it all.
 */
class SiteIntegrationTest extends NodeTestBase {

  private static final Duration SOON = Duration.ofSeconds(20);

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "twinfleet.clock.speed = 60");
  }


  private static DeviceServiceGrpc.DeviceServiceBlockingStub devices() {
    return DeviceServiceGrpc.newBlockingStub(node.channel());
  }

  private static SiteServiceGrpc.SiteServiceBlockingStub sites() {
    return SiteServiceGrpc.newBlockingStub(node.channel());
  }

  private static Timestamp claim(String id, String site, Duration heartbeat) {
    devices().registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel("charger").setSerial("SN-" + id)
        .setHeartbeatInterval(com.google.protobuf.Duration.newBuilder().setSeconds(heartbeat.toSeconds())).build());
    return devices().claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(id).setCustomerId("cust-" + site).setSiteId(site).build())
        .getClaimedAt();
  }

  /** Reports as of the service's clock, so readings stay in order. */
  private static void report(String id, Consumer<io.twinfleet.protocol.v1.Reading.Builder> values) {
    io.twinfleet.protocol.v1.Reading.Builder r = io.twinfleet.protocol.v1.Reading.newBuilder().setDeviceId(id).setObservedAt(serviceNow());
    values.accept(r);
    TelemetryServiceGrpc.newBlockingStub(node.channel()).report(r.build());
  }

  private static Timestamp serviceNow() {
    return ProtoMapping.timestamp(node.clock().instant());
  }

  private static Site site(String id) {
    return sites().getSite(GetSiteRequest.newBuilder().setSiteId(id).build());
  }

  private static List<String> listed(ListSitesRequest request) {
    List<String> ids = new ArrayList<>();
    String token = "";
    do {
      ListSitesResponse page = sites().listSites(request.toBuilder().setPageSize(1).setPageToken(token).build());
      page.getSitesList().forEach(s -> ids.add(s.getSiteId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }

  private static Status.Code code(Runnable call) {
    return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
  }

  @Test
  void devicesDriveTheirSitesAndTheSlaFollows() throws Exception {
    // Hour-long heartbeats: online for two service hours (two real minutes) after each report.
    for (String c : List.of("c1", "c2", "c3")) {
      claim(c, "park-a", Duration.ofHours(1));
    }
    claim("t1", "home-b", Duration.ofSeconds(10));
    await("sites exist, nobody active yet", SOON, () -> {
      try {
        Site a = site("park-a");
        return a.getDevices() == 3 && site("home-b").getDevices() == 1;
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
    Site waiting = site("park-a");
    assertFalse(waiting.getInService(), "claimed devices that never reported are not in service");
    assertFalse(waiting.hasTechnicalUptime());

    for (String c : List.of("c1", "c2", "c3")) {
      report(c, r -> r.setInUse(false));
    }
    await("the car park is in service and available", SOON, () -> site("park-a").getFreeDevices() == 3);
    Site up = site("park-a");
    assertTrue(up.getAvailable());
    assertEquals(1.0, up.getTechnicalUptime());

    Collected<Site> watch = new Collected<>();
    SiteServiceGrpc.newStub(node.channel()).watchSite(WatchSiteRequest.newBuilder().setSiteId("park-a").build(), watch);

    report("c1", r -> r.setInUse(true));
    report("c2", r -> r.setInUse(true));
    report("c3", r -> r.setFaults(FaultSet.newBuilder().addFaults(ReportedFault.newBuilder().setCode("E-PWR").setSeverity(Severity.CRITICAL))));
    long changedAt = System.nanoTime();
    await("every charger busy or broken: the car park is unavailable", SOON, () -> !site("park-a").getAvailable());
    Duration reached = Duration.ofNanos(System.nanoTime() - changedAt);
    assertTrue(reached.compareTo(Duration.ofSeconds(15)) < 0, "took " + reached);
    Site down = site("park-a");
    assertEquals(3, down.getActiveDevices());
    assertEquals(2, down.getWorkingDevices());
    assertEquals(2, down.getInUseDevices());
    assertEquals(2.0 / 3, down.getTechnicalUptime(), 1e-9);
    await("the watch saw it", SOON, () -> watch.items.stream().anyMatch(v -> v.getInService() && !v.getAvailable()));
    assertTrue(watch.items.get(0).getAvailable(), "the watch began with the current view");

    // The thermostat's 10 s heartbeat runs out 20 service seconds after its report.
    report("t1", r -> r.setInUse(false));
    await("the silent thermostat's home is unavailable", SOON, () -> {
      Site b = site("home-b");
      return b.getInService() && !b.getAvailable() && b.getWorkingDevices() == 0;
    });

    await("both listed as unavailable now", SOON,
        () -> listed(ListSitesRequest.newBuilder().setUnavailableNow(true).build()).containsAll(List.of("park-a", "home-b")));
    assertEquals(List.of("home-b", "park-a").stream().sorted().toList(), listed(ListSitesRequest.getDefaultInstance()).stream().sorted().toList());

    Thread.sleep(1_000); // a minute of service time down
    report("c3", r -> r.setFaults(FaultSet.getDefaultInstance()));
    await("the fault cleared: available again", SOON, () -> site("park-a").getAvailable());
    await("no longer listed as unavailable", SOON,
        () -> !listed(ListSitesRequest.newBuilder().setUnavailableNow(true).build()).contains("park-a"));

    YearMonth month = YearMonth.from(node.clock().instant().atZone(ZoneOffset.UTC));
    SiteSla sla = sites().getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId("park-a").build());
    assertEquals(month.toString(), sla.getMonth());
    assertEquals(1, sla.getDowntimesCount(), sla.toString());
    Interval outage = sla.getDowntimes(0);
    assertTrue(sla.getDowntime().getSeconds() >= 60, sla.toString());
    assertTrue(sla.getAvailability() < 0.99 && !sla.getMet(), "a minute down in a few minutes of service: " + sla);
    assertEquals(0.99, sla.getTarget());
    assertTrue(listed(ListSitesRequest.newBuilder().setBelowSla(true).build()).contains("park-a"));

    // Declared afterwards, the outage was maintenance: the SLA no longer counts it.
    Site declared = sites().declareMaintenance(DeclareMaintenanceRequest.newBuilder().setSiteId("park-a").setWindowId("w-1")
        .setStart(outage.getStart()).setEnd(outage.getEnd()).setReason("power work").build());
    assertEquals(0, declared.getMaintenanceCount(), "the window has ended");
    SiteSla after = sites().getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId("park-a").setMonth(month.toString()).build());
    assertEquals(0, after.getDowntimesCount(), after.toString());
    assertTrue(after.getMet());
    assertEquals(sla.getDowntime(), after.getMaintenance());
    assertFalse(listed(ListSitesRequest.newBuilder().setBelowSla(true).build()).contains("park-a"));

    Site strict = sites().setSiteSlaTarget(SetSiteSlaTargetRequest.newBuilder().setSiteId("park-a").setTarget(0.95).build());
    assertEquals(0.95, strict.getThisMonth().getTarget());

    // Bad requests: their status, and nothing changed.
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> site("")));
    assertEquals(Status.Code.NOT_FOUND, code(() -> site("nowhere")));
    assertEquals(Status.Code.NOT_FOUND, code(() -> sites().setSiteSlaTarget(SetSiteSlaTargetRequest.newBuilder().setSiteId("nowhere").setTarget(0.9).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> sites().getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId("park-a").setMonth("2026-13").build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> sites().getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId("park-a").setMonth(month.plusMonths(1).toString()).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> sites().setSiteSlaTarget(SetSiteSlaTargetRequest.newBuilder().setSiteId("park-a").setTarget(1.5).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> sites().declareMaintenance(DeclareMaintenanceRequest.newBuilder().setSiteId("park-a")
        .setWindowId("w-2").setStart(outage.getEnd()).setEnd(outage.getStart()).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> sites().declareMaintenance(DeclareMaintenanceRequest.newBuilder().setSiteId("park-a")
        .setWindowId("w-2").setStart(outage.getStart()).build())));
    assertEquals(Status.Code.ALREADY_EXISTS, code(() -> sites().declareMaintenance(DeclareMaintenanceRequest.newBuilder().setSiteId("park-a")
        .setWindowId("w-1").setStart(outage.getStart()).setEnd(serviceNow()).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> sites().listSites(ListSitesRequest.newBuilder().setPageToken("not-ours").build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> sites().listSites(ListSitesRequest.newBuilder().setPageSize(501).build())));
    Site unchanged = site("park-a");
    assertEquals(0.95, unchanged.getThisMonth().getTarget());

    // A restart keeps sites as they were.
    restartNode();
    Site again = site("park-a");
    assertEquals(3, again.getActiveDevices());
    assertEquals(0.95, again.getThisMonth().getTarget());
    assertEquals(after.getMaintenance(), sites().getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId("park-a").build()).getMaintenance());
  }
}
