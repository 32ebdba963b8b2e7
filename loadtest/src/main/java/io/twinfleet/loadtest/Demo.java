package io.twinfleet.loadtest;

import com.typesafe.config.ConfigFactory;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.twinfleet.loadtest.sim.DeviceModel;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.FleetProfile;
import io.twinfleet.loadtest.sim.FleetSummary;
import io.twinfleet.persistence.Directories;
import io.twinfleet.protocol.v1.Stage;
import io.twinfleet.service.api.http.FleetOverview;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Secrets;
import io.twinfleet.service.security.SecuritySettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The demo: an embedded Cassandra, one service node on an accelerated clock and a simulated fleet,
 * all in this process, with a live summary refreshed in place until Ctrl-C stops everything
 * (fleet first, then the service, then Cassandra). Starts from an empty store every time.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Starts Cassandra, a service node and a simulated fleet on an accelerated clock, and shows it live.")
public final class Demo implements Callable<Integer> {

  @Option(names = "--devices", defaultValue = "10000", description = "Simulated devices, 1 to 200,000 (default: ${DEFAULT-VALUE}).")
  int devices;

  @Option(names = "--sites", description = "Sites (homes and car parks); default one per five devices.")
  Integer sites;

  @Option(names = "--speed", defaultValue = "720", description = "Clock speed: 720 runs a simulated day every two minutes (default: ${DEFAULT-VALUE}).")
  double speed;

  @Option(names = "--heartbeat-multiplier", description = "Multiply every model's heartbeat interval (5 to 60 min) by this, up to 24 h; "
      + "default: the smallest that leaves every device at least 10 s of real time before it counts as off line (12 at x720).")
  Integer heartbeatMultiplier;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the fleet (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--data", defaultValue = ".twinfleet/demo", description = "The demo's own data directory, emptied at start (default: ${DEFAULT-VALUE}).")
  Path data;

  /**
   * The least real time before a device that stops reporting counts as off line, unless told
   * otherwise. Any shorter and a pause of the machine (a collection, a burst of provisioning) puts
   * devices off line that are not, each costing two events, which slow the service further.
   */
  static final Duration MIN_REAL_SILENCE = Duration.ofSeconds(10);
  static final int OFFLINE_AFTER_HEARTBEATS = 2; // the service's default

  private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);
  private final PrintStream out = System.out;
  private int multiplier;

  @Override
  public Integer call() throws Exception {
    if (devices < 1 || devices > 200_000) {
      throw new IllegalArgumentException("--devices must be 1 to 200,000 (the load test takes more), was " + devices);
    }
    if (!(speed >= 1 && speed <= 100_000)) {
      throw new IllegalArgumentException("--speed must be 1 to 100,000, was " + speed);
    }
    int siteCount = sites != null ? sites : Math.max(1, devices / 5);
    multiplier = heartbeatMultiplier != null ? heartbeatMultiplier : heartbeatMultiplier(speed);
    if (multiplier < 1) {
      throw new IllegalArgumentException("--heartbeat-multiplier must be at least 1, was " + multiplier);
    }
    if (siteCount < 1 || siteCount > devices) {
      throw new IllegalArgumentException("--sites must be 1 to --devices, was " + siteCount);
    }
    for (int port : new int[] {8080, 8558, 9042}) {
      requireFree(port); // before emptying the data directory a running demo may be using
    }
    Directories.deleteRecursively(data);
    Files.createDirectories(data);
    Path log = data.resolve("service.log").toAbsolutePath();
    InProcessLog.toFile(log);

    out.printf("Twinfleet demo: starting Cassandra and a service node (clock x%s); the service logs to %s%n", LoadTest.fmt(speed), log);
    // Pekko would start stopping the service at Ctrl-C by itself, while the fleet still sends; the
    // demo's own hook stops the fleet first, then the service.
    io.twinfleet.service.ServiceNode node = io.twinfleet.service.ServiceNode.start(
        ConfigFactory.parseMap(Map.of("twinfleet.clock.speed", speed, "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "off")), data, true);
    String target = "127.0.0.1:" + node.grpcPort();
    SecuritySettings security = SecuritySettings.fromConfig(node.system().settings().config(), data);
    tokens = new DemoTokens(Secrets.hs256(security), data.resolve("tokens"));
    String journeyToken = tokens.write("journey", Role.JOURNEY, null, null);
    out.printf("Tokens (valid for %s; also in %s, and ./twinfleet token --data %s mints more):%n  admin    %s%n  journey  %s%n",
        Durations.human(DemoTokens.LIFE.toMillis()), tokens.directory(), data, tokens.write("admin", Role.ADMIN, null, null), journeyToken);
    dashboard = dashboardUrl(node.httpPort(), journeyToken);
    out.printf("Dashboard (signed in with the journey token): %s%n", dashboard);
    List<ManagedChannel> channels = Channels.open(target, 2, tokens.read("admin"));
    RunStats stats = new RunStats();
    ServiceTime time = ServiceTime.sync(channels.get(0));
    Fleet fleet = Fleet.plan(seed, devices, siteCount, "demo-", FleetProfile.defaults(), OFFLINE_AFTER_HEARTBEATS)
        .withHeartbeatMultiplier(multiplier);
    Simulation sim = new Simulation(fleet, time, channels, 500, 8, stats);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        out.println();
        out.println("Stopping: the fleet, then the service, then Cassandra...");
        sim.close();
        Channels.close(channels);
        node.stop();
        out.println("Stopped.");
      } catch (Exception e) {
        out.println("Stopping failed: " + e);
      } finally {
        stopped.countDown();
      }
    }, "demo-stop"));

    sim.start();
    // Devices report as soon as they are claimed, so the summary starts while the fleet is provisioned.
    Thread provisioning = new Thread(() -> {
      try {
        sim.provision(128, Progress.NONE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "provisioning");
    provisioning.setDaemon(true);
    provisioning.start();
    live(sim, stats, fleet, time, channels.get(0), node.grpcPort(), node.httpPort());
    stopped.await();
    return 0;
  }

  /** Refreshes the summary in place every second (every ten seconds when not on a terminal). */
  private void live(Simulation sim, RunStats stats, Fleet fleet, ServiceTime time, Channel channel, int grpcPort, int httpPort) throws InterruptedException {
    boolean terminal = System.console() != null;
    long start = time.nowMillis();
    long lastAccepted = stats.readingsAccepted.sum();
    long lastNanos = System.nanoTime();
    int printed = 0;
    while (true) {
      Thread.sleep(terminal ? 1000 : 10_000);
      long now = System.nanoTime();
      long accepted = stats.readingsAccepted.sum();
      double rate = (accepted - lastAccepted) / ((now - lastNanos) / 1e9);
      lastAccepted = accepted;
      lastNanos = now;
      Histogram acks = stats.ackLatency.getIntervalHistogram();
      // The truth as of the time the simulation reached: behind the service clock, it has not yet
      // sent what its devices did since, and judged at the service's now they would look silent.
      List<String> lines = summary(FleetSummary.of(fleet, sim.reachedMillis()), start, rate, accepted, acks, sim, stats, fleet, grpcPort, httpPort);
      lines.addAll(2, serviceLines(channel));
      StringBuilder b = new StringBuilder();
      if (terminal && printed > 0) {
        b.append("\033[").append(printed).append('A');
      }
      for (String line : lines) {
        b.append(terminal ? "\r\033[2K" : "").append(line).append('\n');
      }
      out.print(b);
      out.flush();
      printed = lines.size();
    }
  }

  private List<String> summary(FleetSummary s, long start, double rate, long accepted, Histogram acks, Simulation sim, RunStats stats,
      Fleet fleet, int grpcPort, int httpPort) {
    List<String> l = new ArrayList<>();
    double days = (s.at() - start) / 86_400_000.0;
    l.add(String.format(Locale.ROOT, "Twinfleet demo: %,d devices at %,d sites, clock x%s (a simulated day every %s)%s",
        s.devices(), s.sites(), LoadTest.fmt(speed), Durations.human((long) (86_400_000 / speed)),
        multiplier == 1 ? "" : ", heartbeats x" + multiplier));
    l.add(String.format(Locale.ROOT, "Simulated time   %s (day %.1f of the run)", WHEN.format(Instant.ofEpochMilli(s.at())), days));
    long provisioned = sim.provisioned();
    l.add(provisioned < s.devices()
        ? String.format(Locale.ROOT, "Provisioning     %,d of %,d devices registered and claimed (%.0f%%)", provisioned, s.devices(), 100.0 * provisioned / s.devices())
        : String.format(Locale.ROOT, "Provisioned      %,d devices: %,d registered, %,d claimed", s.devices(), stats.registered.sum(), stats.claimed.sum()));
    l.add("Simulator's ground truth (./twinfleet loadtest referees a service against it):");
    l.add(String.format(Locale.ROOT, "Devices          %,d claimed, %,d active, %,d online (%.1f%%), %,d decommissioned",
        s.claimed(), s.active(), s.online(), s.active() == 0 ? 0 : 100.0 * s.online() / s.active(), s.decommissioned()));
    l.add(String.format(Locale.ROOT, "Fleet uptime     %.2f%% since activation", 100 * s.fleetUptime()));
    StringBuilder stages = new StringBuilder();
    for (Stage st : new Stage[] {Stage.UNCLAIMED, Stage.ONBOARDING, Stage.DAY_30, Stage.DAY_60, Stage.DAY_90, Stage.MATURE, Stage.END_OF_LIFE}) {
      stages.append(stages.length() == 0 ? "" : "  ").append(st.name()).append(' ').append(String.format(Locale.ROOT, "%,d", s.stage(st)));
    }
    l.add("Stages           " + stages);
    l.add(String.format(Locale.ROOT, "Sites available  %,d of %,d (car parks %,d of %,d)", s.sitesAvailable(), s.sites(), s.carParksAvailable(), s.carParks()));
    l.add(String.format(Locale.ROOT, "Open alerts      battery low %,d, offline over 1 h %,d, critical fault %,d, onboarding stalled %,d",
        s.batteryLow(), s.offlineOverAnHour(), s.criticalFaults(), s.onboardingStalled()));
    l.add(String.format(Locale.ROOT, "Readings         %,.0f/s acknowledged, ack p99 %.1f ms, %,d in total, simulation lag %s, errors %,d",
        rate, RunStats.millis(acks, 99), accepted, Durations.human(sim.lagMillis()), stats.errorCount()));
    int d = firstActive(fleet);
    if (d != tokensFor) {
      tokens.write("app", Role.APP, fleet.customerId(d), null);
      tokens.write("device", Role.DEVICE, null, fleet.deviceId(d));
      tokensFor = d;
    }
    String app = "-H \"authorization: Bearer $(cat " + tokens.file("app") + ")\"";
    l.add("");
    l.add("Try, from another terminal (tokens for " + fleet.customerId(d) + "'s app and device " + fleet.deviceId(d) + " are in " + tokens.directory() + "):");
    l.add(String.format("  grpcurl -plaintext %s -d '{\"device_id\":\"%s\"}' 127.0.0.1:%d twinfleet.v1.DeviceService/GetDevice", app, fleet.deviceId(d), grpcPort));
    l.add(String.format("  grpcurl -plaintext %s -d '{\"device_id\":\"%s\"}' 127.0.0.1:%d twinfleet.v1.DeviceService/WatchDevice", app, fleet.deviceId(d), grpcPort));
    l.add(String.format("  grpcurl -plaintext %s -d '{\"customer_id\":\"%s\"}' 127.0.0.1:%d twinfleet.v1.DeviceService/ListCustomerDevices", app, fleet.customerId(d), grpcPort));
    l.add(String.format("  grpcurl -plaintext -H \"authorization: Bearer $(cat %s)\" 127.0.0.1:%d twinfleet.v1.QualityService/ListAlerts", tokens.file("journey"), grpcPort));
    l.add(String.format("  curl http://127.0.0.1:%d/ready; curl http://127.0.0.1:%d/metrics", httpPort, httpPort));
    l.add("Ctrl-C stops the fleet, the service and Cassandra.");
    return l;
  }

  /**
   * The service's figures, fetched as the dashboard fetches them ({@link FleetOverview}), so that
   * the terminal and the page show the same numbers for the same service instant.
   */
  private List<String> serviceLines(Channel channel) {
    List<String> l = new ArrayList<>();
    try {
      l.addAll(overviewLines(FleetOverview.fetch(channel), dashboard));
    } catch (StatusRuntimeException e) {
      l.add("Service          not answering now: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
    }
    return l;
  }

  /** The overview as the demo prints it: the dashboard's top figures, in the dashboard's formats. */
  static List<String> overviewLines(FleetOverview o, String dashboard) {
    List<String> l = new ArrayList<>();
    l.add("The service, as its dashboard shows it (" + dashboard.substring(0, dashboard.indexOf('#')) + "), as of "
        + WHEN.format(Instant.parse(o.asOf())) + ":");
    l.add(String.format(Locale.ROOT, "Fleet uptime     %.2f%% over the last 24 h; devices %,d active, %,d online, %,d offline, %,d working",
        100 * o.uptime(), o.devicesActive(), o.devicesOnline(), o.devicesOffline(), o.devicesWorking()));
    StringBuilder stages = new StringBuilder();
    for (FleetOverview.StageDevices s : o.stages()) {
      stages.append(stages.length() == 0 ? "" : "  ").append(s.stage()).append(' ').append(String.format(Locale.ROOT, "%,d", s.devices()));
    }
    l.add(String.format(Locale.ROOT, "Claimed          %,d: %s", o.devicesClaimed(), stages));
    l.add(String.format(Locale.ROOT, "Sites            %s not available now, %s below their SLA this month",
        count(o.sitesUnavailable(), o.sitesUnavailableMore()), count(o.sitesBelowSla(), o.sitesBelowSlaMore())));
    StringBuilder kinds = new StringBuilder();
    for (FleetOverview.KindCount k : o.alertsOpenByKind()) {
      kinds.append(kinds.length() == 0 ? ": " : ", ").append(k.kind()).append(' ').append(String.format(Locale.ROOT, "%,d", k.count()));
    }
    l.add("Open alerts      " + count(o.alertsOpen(), o.alertsOpenMore()) + kinds);
    return l;
  }

  private static String count(long n, boolean more) {
    return String.format(Locale.ROOT, "%,d", n) + (more ? "+" : "");
  }

  /** The dashboard's address, with a token in the fragment, which the page keeps and the browser never sends. */
  static String dashboardUrl(int httpPort, String token) {
    return "http://127.0.0.1:" + httpPort + "/#token=" + token;
  }

  /** The smallest heartbeat multiplier that leaves every device {@link #MIN_REAL_SILENCE} at {@code speed}. */
  static int heartbeatMultiplier(double speed) {
    long shortest = Arrays.stream(DeviceModel.values()).mapToLong(m -> m.heartbeat().toMillis()).min().orElseThrow();
    double needed = MIN_REAL_SILENCE.toMillis() * speed / (OFFLINE_AFTER_HEARTBEATS * shortest);
    return (int) Math.max(1, Math.ceil(needed));
  }

  private int example = -1;
  private String dashboard;
  private DemoTokens tokens;
  private int tokensFor = -1; // the device whose app and device tokens are written

  /** A device to show in the example commands: the first one that came on line, then always it. */
  private int firstActive(Fleet fleet) {
    for (int i = 0; example < 0 && i < fleet.size(); i++) {
      if (fleet.state(i) == Fleet.ONLINE) {
        example = i;
      }
    }
    return Math.max(example, 0);
  }

  private static void requireFree(int port) {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
    } catch (IOException e) {
      throw new IllegalArgumentException("port " + port + " is in use: is another Twinfleet (or Cassandra) running? Stop it first.");
    }
  }

}
