package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Durations;
import io.grpc.ManagedChannel;
import io.twinfleet.protocol.v1.Alert;
import io.twinfleet.protocol.v1.AlertState;
import io.twinfleet.protocol.v1.DeviceJourney;
import io.twinfleet.protocol.v1.FleetQuality;
import io.twinfleet.protocol.v1.GetDeviceJourneyRequest;
import io.twinfleet.protocol.v1.GetFleetQualityRequest;
import io.twinfleet.protocol.v1.GetQualityBreakdownRequest;
import io.twinfleet.protocol.v1.GetStageFunnelRequest;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.ListAlertsRequest;
import io.twinfleet.protocol.v1.ListSitesRequest;
import io.twinfleet.protocol.v1.QualityBreakdown;
import io.twinfleet.protocol.v1.QualityDimension;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.QualityShare;
import io.twinfleet.protocol.v1.Site;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import io.twinfleet.protocol.v1.StageCount;
import io.twinfleet.service.ServiceNode;
import io.twinfleet.service.api.http.FleetOverview;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Secrets;
import io.twinfleet.service.security.SecuritySettings;
import io.twinfleet.service.security.Tokens;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser (Debian's headless Chromium, driven through its chromedriver)
 * against a real service node that a simulated fleet has lived on: the node runs on a clock that
 * is held still once the fleet stops, so that the page, the gRPC API and the demo's summary are all
 * read at one service instant and must agree exactly. Then an alert is acknowledged from the page.
 * Screenshots go to {@code target/dashboard/}. {@link RefereeIntegrationTest} runs it on its fleet.
 */
final class DashboardCheck {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SCREENSHOTS = Path.of("target", "dashboard");

  private DashboardCheck() {}

  /** Holds {@code clock} (the node's) and checks the dashboard of {@code node}, whose data directory is {@code data}. */
  static void verify(ServiceNode node, HeldClock clock, Path data) throws Exception {
    installChromiumIfMissing();
    clock.hold();
    SecuritySettings security = SecuritySettings.fromConfig(node.system().settings().config(), data);
    String journeyToken = Tokens.mint(Secrets.existing(security), Role.JOURNEY, null, null, Duration.ofHours(1), Instant.now());
    ManagedChannel journey = Channels.open("127.0.0.1:" + node.grpcPort(), 1, journeyToken).get(0);
    try {
      FleetOverview overview = settled(journey);
      assertTrue(overview.alertsOpen() > 0 && overview.devicesActive() > 50, "the fleet has active devices and open alerts: " + overview);
      ChromeDriver browser = chromium();
      try {
        String url = Demo.dashboardUrl(node.httpPort(), journeyToken);
        browser.get(url);
        awaitRefresh(browser, 0);
        assertFalse(browser.getCurrentUrl().contains("token="), "the page takes the token out of the address bar");
        pageMatchesTheApi(browser, journey, overview);
        terminalShowsWhatThePageShows(browser, Demo.overviewLines(overview, url));
        screenshot(browser, "dashboard.png");
        lookUpADevice(browser, journey);
        acknowledgeAnAlert(browser, journey);
        screenshot(browser, "dashboard-after-acknowledge.png");
      } finally {
        browser.quit();
      }
    } finally {
      journey.shutdownNow();
    }
  }

  /** The overview once the read models have caught up with the held clock: the same twice, 3 s apart. */
  private static FleetOverview settled(ManagedChannel journey) throws InterruptedException {
    FleetOverview last = FleetOverview.fetch(journey);
    for (int i = 0; i < 40; i++) {
      Thread.sleep(3000);
      FleetOverview now = FleetOverview.fetch(journey);
      if (now.equals(last)) {
        return now;
      }
      last = now;
    }
    throw new AssertionError("the read models did not settle: " + last);
  }

  /**
   * The test needs Debian's Chromium and chromedriver; on a machine without them it installs them
   * with apt-get when it may (as root), so that {@code mvn verify} needs nothing installed by hand.
   */
  private static void installChromiumIfMissing() throws Exception {
    if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
      return;
    }
    String how = "the browser test drives Debian's Chromium: apt-get install chromium chromium-driver";
    assertTrue(Files.isExecutable(Path.of("/usr/bin/apt-get")) && Files.isWritable(Path.of("/var/lib/dpkg")), how + " (as root)");
    for (List<String> command : List.of(List.of("apt-get", "update", "-qq"), List.of("apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"))) {
      ProcessBuilder apt = new ProcessBuilder(command).inheritIO();
      apt.environment().put("DEBIAN_FRONTEND", "noninteractive");
      assertEquals(0, apt.start().waitFor(), String.join(" ", command));
    }
    assertTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), how);
  }

  private static ChromeDriver chromium() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // Headless, and nothing that reaches for the network: the machine's network is closed.
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,3000");
    ChromeDriverService driver = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    return new ChromeDriver(driver, options);
  }

  /** Waits until the page has finished a refresh of every panel after {@code after} of them. */
  private static int awaitRefresh(ChromeDriver browser, int after) {
    new WebDriverWait(browser, Duration.ofSeconds(60)).until(b -> {
      String loaded = b.findElement(By.tagName("body")).getDomAttribute("data-loaded");
      return loaded != null && Integer.parseInt(loaded) > after;
    });
    return Integer.parseInt(browser.findElement(By.tagName("body")).getDomAttribute("data-loaded"));
  }

  private static String value(ChromeDriver browser, String css) {
    return browser.findElement(By.cssSelector(css)).getDomAttribute("data-value");
  }

  private static void pageMatchesTheApi(ChromeDriver browser, ManagedChannel journey, FleetOverview o) {
    assertEquals(o.asOf(), browser.findElement(By.id("as-of")).getDomAttribute("data-value"), "the page is at the held instant");
    assertEquals(o.uptime(), Double.parseDouble(value(browser, "#uptime-24h")), 0);
    Map<String, Long> tiles = Map.of("devices-active", o.devicesActive(), "devices-online", o.devicesOnline(), "devices-offline", o.devicesOffline(),
        "devices-working", o.devicesWorking(), "devices-claimed", o.devicesClaimed(), "sites-unavailable", o.sitesUnavailable(),
        "sites-below-sla", o.sitesBelowSla(), "alerts-open", o.alertsOpen());
    tiles.forEach((id, n) -> assertEquals(n, Long.parseLong(value(browser, "#" + id)), id));

    FleetQuality quality = QualityServiceGrpc.newBlockingStub(journey).getFleetQuality(GetFleetQualityRequest.newBuilder()
        .setWindow(Durations.fromHours(24)).setHourly(true).build());
    List<WebElement> points = browser.findElements(By.cssSelector("#uptime-chart circle.point"));
    assertEquals(quality.getHoursCount(), points.size(), "one point per hour of the window");
    for (int i = 0; i < points.size(); i++) {
      assertEquals(quality.getHours(i).getUptime(), Double.parseDouble(points.get(i).getDomAttribute("data-uptime")), 0, "hour " + i);
    }
    assertTrue(quality.getHoursList().stream().anyMatch(h -> h.getUptime() < 1), "the chart has a dip to show");
    assertEquals(quality.getUptime(), Double.parseDouble(value(browser, "#window-uptime")), 0);

    for (StageCount c : JourneyServiceGrpc.newBlockingStub(journey).getStageFunnel(GetStageFunnelRequest.getDefaultInstance()).getStagesList()) {
      assertEquals(c.getDevices(), Long.parseLong(value(browser, "#funnel tr[data-stage='" + c.getStage().name() + "'] .count")), c.getStage().name());
    }

    QualityBreakdown causes = QualityServiceGrpc.newBlockingStub(journey).getQualityBreakdown(GetQualityBreakdownRequest.newBuilder()
        .setDimension(QualityDimension.FAULT).setWindow(Durations.fromHours(24)).build());
    List<WebElement> bars = browser.findElements(By.cssSelector("#pareto g.bar"));
    assertEquals(causes.getValuesCount(), bars.size(), "one bar per cause");
    for (int i = 0; i < bars.size(); i++) {
      QualityShare share = causes.getValues(i);
      assertEquals(share.getValue(), bars.get(i).getDomAttribute("data-value"), "bars in the API's order, largest first");
      assertEquals(share.getDowntimeHours(), Double.parseDouble(bars.get(i).getDomAttribute("data-downtime-hours")), 0);
    }

    List<String> sitesDown = SiteServiceGrpc.newBlockingStub(journey).listSites(ListSitesRequest.newBuilder().setUnavailableNow(true).setPageSize(50).build())
        .getSitesList().stream().map(Site::getSiteId).toList();
    assertEquals(sitesDown, attributes(browser, "#sites-unavailable-list tr[data-site-id]", "data-site-id"));
    List<String> belowSla = SiteServiceGrpc.newBlockingStub(journey).listSites(ListSitesRequest.newBuilder().setBelowSla(true).setPageSize(50).build())
        .getSitesList().stream().map(Site::getSiteId).toList();
    assertEquals(belowSla, attributes(browser, "#sla tr[data-site-id]", "data-site-id"));

    List<String> open = QualityServiceGrpc.newBlockingStub(journey).listAlerts(ListAlertsRequest.newBuilder().setState(AlertState.ALERT_OPEN)
        .setPageSize(50).build()).getAlertsList().stream().map(Alert::getAlertId).toList();
    assertEquals(open, attributes(browser, "#alerts tr[data-alert-id]", "data-alert-id"), "the open alerts, in the API's order");
  }

  private static List<String> attributes(ChromeDriver browser, String css, String attribute) {
    return browser.findElements(By.cssSelector(css)).stream().map(e -> e.getDomAttribute(attribute)).toList();
  }

  /** The demo's live summary, made from the same overview, shows every tile's figure as the page shows it, each in its place. */
  private static void terminalShowsWhatThePageShows(ChromeDriver browser, List<String> terminal) {
    String text = String.join("\n", terminal);
    Map<String, String> where = new LinkedHashMap<>();
    where.put("as-of", "as of (.+ UTC):");
    where.put("uptime-24h", "Fleet uptime +(\\S+) over the last 24 h");
    where.put("devices-active", "devices ([\\d,]+) active");
    where.put("devices-online", " ([\\d,]+) online,");
    where.put("devices-offline", " ([\\d,]+) offline,");
    where.put("devices-working", " ([\\d,]+) working");
    where.put("devices-claimed", "Claimed +([\\d,]+):");
    where.put("sites-unavailable", "Sites +([\\d,]+\\+?) not available now");
    where.put("sites-below-sla", " ([\\d,]+\\+?) below their SLA");
    where.put("alerts-open", "Open alerts +([\\d,]+\\+?)");
    where.forEach((id, pattern) -> {
      Matcher m = Pattern.compile(pattern).matcher(text);
      assertTrue(m.find(), "the terminal summary shows " + id + ": " + text);
      assertEquals(browser.findElement(By.id(id)).getText().replaceFirst("^as of ", ""), m.group(1), id + " on the page and in the terminal");
    });
  }

  private static void lookUpADevice(ChromeDriver browser, ManagedChannel journey) {
    String deviceId = browser.findElements(By.cssSelector("#alerts tr[data-alert-id]")).get(0).getDomAttribute("data-alert-id").split("/")[0];
    browser.findElement(By.id("device-id")).sendKeys(deviceId);
    browser.findElement(By.id("lookup-go")).click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(b -> !b.findElements(By.cssSelector("#device-stage")).isEmpty());
    DeviceJourney j = JourneyServiceGrpc.newBlockingStub(journey).getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId(deviceId).build());
    assertEquals(j.getStage().name(), value(browser, "#device-stage"));
    assertEquals(String.valueOf(j.getChurnRisk().getScore()), value(browser, "#device-risk"));
    assertEquals(j.getStageChangesCount(), browser.findElements(By.cssSelector("#timeline li[data-kind='stage']")).size(), "every stage change");
    assertEquals(j.getTouchpointsCount(), browser.findElements(By.cssSelector("#timeline li[data-kind='touchpoint']")).size());
  }

  private static void acknowledgeAnAlert(ChromeDriver browser, ManagedChannel journey) throws InterruptedException {
    WebElement row = browser.findElements(By.cssSelector("#alerts tr[data-alert-id]")).get(0);
    String alertId = row.getDomAttribute("data-alert-id");
    assertEquals("ALERT_OPEN", row.findElement(By.cssSelector("td.state")).getDomAttribute("data-value"));
    row.findElement(By.cssSelector("button.ack")).click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(b -> "ALERT_ACKNOWLEDGED".equals(
        b.findElement(By.cssSelector("#alerts tr[data-alert-id='" + alertId + "'] td.state")).getDomAttribute("data-value")));
    assertTrue(browser.findElements(By.cssSelector("#alerts tr[data-alert-id='" + alertId + "'] button.ack")).isEmpty(), "nothing left to press");

    // The API knows it too, once the alert read model has it; then the page's next refresh drops it from the open alerts.
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Alert acknowledged = null;
    while (acknowledged == null && System.nanoTime() < end) {
      acknowledged = QualityServiceGrpc.newBlockingStub(journey).listAlerts(ListAlertsRequest.newBuilder().setState(AlertState.ALERT_ACKNOWLEDGED)
          .setPageSize(500).build()).getAlertsList().stream().filter(a -> a.getAlertId().equals(alertId)).findFirst().orElse(null);
      Thread.sleep(500);
    }
    assertTrue(acknowledged != null, alertId + " is listed as acknowledged");
    assertEquals("acknowledged from the dashboard", acknowledged.getNote());
    int refreshes = Integer.parseInt(browser.findElement(By.tagName("body")).getDomAttribute("data-loaded"));
    browser.findElement(By.id("refresh")).click();
    awaitRefresh(browser, refreshes);
    assertTrue(browser.findElements(By.cssSelector("#alerts tr[data-alert-id='" + alertId + "']")).isEmpty(), "no longer in the open queue");
  }

  /** The page from its top (the window is tall enough for all of it at this fleet's size). */
  private static void screenshot(ChromeDriver browser, String name) throws Exception {
    browser.executeScript("window.scrollTo(0, 0)");
    Files.createDirectories(SCREENSHOTS);
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
  }
}
