package io.twinfleet.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.persistence.Directories;
import io.twinfleet.service.ServiceNode;
import io.twinfleet.service.device.DeviceTwin;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole-system restart: a Cassandra node and a service node, a simulated fleet that lives for
 * a while, then every view the API gives (each device and journey, each site, the funnel, fleet
 * quality, the alert queue) read, the service and Cassandra stopped and started again on the same
 * data, and every view read again. The service clock is held still from the first read on, so
 * both sides are computed at the same instant and must be equal field for field. Measured: how
 * long the stop, the start and the return of every twin take.
 */
@Command(name = "restart-check", mixinStandardHelpOptions = true, sortOptions = false,
    description = "A fleet on one node, then a stop and start of the service and Cassandra: every view must be the same before and after.")
public final class RestartCheck implements Callable<Integer> {

  private static final Duration SETTLE_PAUSE = Duration.ofSeconds(3);
  private static final Duration SETTLE_TIMEOUT = Duration.ofMinutes(3);
  private static final Duration TWINS_BACK_TIMEOUT = Duration.ofMinutes(15);

  @Option(names = "--devices", defaultValue = "100000", description = "Simulated devices (default: ${DEFAULT-VALUE}).")
  int devices;

  @Option(names = "--sites", description = "Sites; default one per five devices.")
  Integer sites;

  @Option(names = "--duration", defaultValue = "2m", description = "How long the fleet lives after provisioning (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--speed", defaultValue = "1440", description = "The service's clock speed (default: ${DEFAULT-VALUE}: a simulated day a minute).")
  double speed;

  @Option(names = "--heartbeat-multiplier", defaultValue = "4", description = "Multiply every model's heartbeat interval by this (default: ${DEFAULT-VALUE}).")
  int heartbeatMultiplier;

  @Option(names = "--activation-delay", defaultValue = "30m", description = "Mean simulated time from claim to first report (default: ${DEFAULT-VALUE}).")
  String activationDelay;

  @Option(names = "--streams", defaultValue = "4", description = "ReportStreams (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(names = "--provision-concurrency", defaultValue = "256", description = "Register/claim calls in flight while provisioning (default: ${DEFAULT-VALUE}).")
  int provisionConcurrency;

  @Option(names = "--read-concurrency", defaultValue = "64", description = "Views read at once (default: ${DEFAULT-VALUE}).")
  int readConcurrency;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the fleet (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--data", defaultValue = ".twinfleet/restart", description = "Where Cassandra and the service keep data and logs; emptied first (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--json", defaultValue = "restart-result.json", description = "Where to write the JSON result (default: ${DEFAULT-VALUE}).")
  Path json;

  private final PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    if (devices < 1 || (sites != null && (sites < 1 || sites > devices)) || !(speed >= 1) || readConcurrency < 1) {
      throw new IllegalArgumentException("--devices at least 1, --sites 1 to --devices, --speed at least 1, --read-concurrency at least 1");
    }
    Durations.parse("--duration", duration);
    Directories.deleteRecursively(data);
    Files.createDirectories(data);
    InProcessLog.toFile(data.resolve("service.log"));
    out.printf("Starting Cassandra and a service node (clock x%s); the service logs to %s%n", LoadTest.fmt(speed), data.resolve("service.log"));
    RestartableCassandra cassandra = RestartableCassandra.start(data.resolve("cassandra"));
    String secret = Credentials.randomSecret();
    Config settings = ConfigFactory.parseMap(Map.of(
        "twinfleet.cassandra.contact-points", cassandra.contactPoint(),
        "twinfleet.cassandra.apply-schema", true,
        "twinfleet.clock.speed", speed,
        "twinfleet.security.jwt-secret", secret,
        "twinfleet.grpc.port", 0,
        "pekko.management.http.port", 0,
        "pekko.remote.artery.canonical.port", 0));
    String token = Credentials.writeAdminToken(secret, data);
    HeldClock clock = new HeldClock();
    Map<String, Object> result = new LinkedHashMap<>();
    ServiceNode node = null;
    try {
      node = ServiceNode.start(settings, data.resolve("node"), false, clock);

      LoadTest load = new LoadTest();
      List<String> args = new ArrayList<>(List.of("--token", token, "--target", "127.0.0.1:" + node.grpcPort(), "--devices", String.valueOf(devices),
          "--duration", duration, "--speed", String.valueOf(speed), "--seed", String.valueOf(seed), "--prefix", "rc-",
          "--activation-delay", activationDelay, "--heartbeat-multiplier", String.valueOf(heartbeatMultiplier), "--streams", String.valueOf(streams),
          "--provision-concurrency", String.valueOf(provisionConcurrency), "--verify", "none", "--no-baselines",
          "--json", data.resolve("load-result.json").toString()));
      if (sites != null) {
        args.addAll(List.of("--sites", String.valueOf(sites)));
      }
      new CommandLine(load).parseArgs(args.toArray(String[]::new));
      int loadStatus = load.call();
      Fleet fleet = load.plannedFleet;
      List<String> deviceIds = new ArrayList<>();
      for (int i = 0; i < fleet.size(); i++) {
        deviceIds.add(fleet.deviceId(i));
      }
      List<String> siteIds = new ArrayList<>();
      for (int s = 0; s < fleet.siteCount(); s++) {
        siteIds.add(fleet.siteIdOf(s));
      }

      Instant heldAt = clock.hold();
      out.printf("The fleet has stopped; service clock held still at %s (%s real time).%n", node.clock().instant(), heldAt);
      int twinsBefore = liveTwins(node.system());
      List<ManagedChannel> channels = Channels.open("127.0.0.1:" + node.grpcPort(), 1, token);
      long t = System.nanoTime();
      ViewSnapshot before = read(channels.get(0), deviceIds, siteIds, "Reading every view");
      double readBefore = seconds(t);
      // Read models (funnel, quality, alerts, sites) follow the journal a few seconds behind: read
      // until two reads in a row agree, so the comparison is with what the system settled on.
      List<ViewSnapshot.Difference> changing;
      long settleEnd = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
      while (true) {
        Thread.sleep(SETTLE_PAUSE.toMillis());
        ViewSnapshot again = read(channels.get(0), deviceIds, siteIds, "Reading every view again");
        changing = before.differences(again);
        before = again;
        if (changing.isEmpty() || System.nanoTime() > settleEnd) {
          break;
        }
        out.printf("%,d views changed between two reads, e.g. %s; reading again.%n", changing.size(),
            String.join(", ", changing.stream().limit(5).map(ViewSnapshot.Difference::view).toList()));
      }
      Channels.close(channels);
      out.printf(Locale.ROOT, "%,d views read (%,d twins in memory); the same in two reads in a row: %s.%n", before.size(), twinsBefore,
          changing.isEmpty() ? "yes" : "NO");

      out.println("Stopping the service node, then Cassandra...");
      t = System.nanoTime();
      node.stop();
      node = null;
      double stopService = seconds(t);
      t = System.nanoTime();
      cassandra.stop();
      double stopCassandra = seconds(t);
      out.printf(Locale.ROOT, "Stopped: service in %.1f s, Cassandra in %.1f s. Starting both again on the same data...%n", stopService, stopCassandra);

      t = System.nanoTime();
      cassandra.start();
      double startCassandra = seconds(t);
      t = System.nanoTime();
      node = ServiceNode.start(settings, data.resolve("node"), false, clock);
      double startService = seconds(t);
      out.printf(Locale.ROOT, "Started: Cassandra in %.1f s, the service in %.1f s; clock at %s.%n", startCassandra, startService, node.clock().instant());
      Double twinsBack = awaitTwins(node.system(), twinsBefore);
      channels = Channels.open("127.0.0.1:" + node.grpcPort(), 1, token);
      long r = System.nanoTime();
      ViewSnapshot after = read(channels.get(0), deviceIds, siteIds, "Reading every view after the restart");
      double readAfter = seconds(r);
      Channels.close(channels);

      List<ViewSnapshot.Difference> differences = before.differences(after);
      Map<String, Object> refusalsAfter = after.refusals();
      long transientRefusals = refusalsAfter.values().stream().filter(v -> !v.toString().endsWith("NOT_FOUND")).count();
      boolean passed = loadStatus == 0 && changing.isEmpty() && differences.isEmpty() && transientRefusals == 0;

      result.put("config", LoadTest.ordered("devices", devices, "sites", fleet.siteCount(), "speed", speed, "duration", duration,
          "heartbeat_multiplier", heartbeatMultiplier, "seed", seed));
      result.put("views", before.size());
      result.put("twins_before", twinsBefore);
      result.put("held_at_service_time", node.clock().instant().toString());
      result.put("stable_before_restart", changing.isEmpty());
      result.put("still_changing_before_restart", changing.stream().limit(20).map(ViewSnapshot.Difference::toString).toList());
      result.put("read_before_seconds", readBefore);
      result.put("stop_service_seconds", stopService);
      result.put("stop_cassandra_seconds", stopCassandra);
      result.put("start_cassandra_seconds", startCassandra);
      result.put("start_service_seconds", startService);
      result.put("all_twins_back_seconds", twinsBack);
      result.put("read_after_seconds", readAfter);
      result.put("differing_views", differences.size());
      result.put("refusals_after", refusalsAfter.size());
      result.put("transient_refusals_after", transientRefusals);
      result.put("differences", differences.stream().limit(50).map(ViewSnapshot.Difference::toString).toList());
      result.put("load_test_status", loadStatus);
      result.put("passed", passed);
      Files.writeString(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result));

      out.println();
      out.printf(Locale.ROOT, "Views: %,d (%,d devices x GetDevice and GetDeviceJourney, %,d sites, funnel, fleet quality, %,d alert pages).%n",
          before.size(), deviceIds.size(), siteIds.size(), before.size() - 2 * deviceIds.size() - siteIds.size() - 2);
      out.printf(Locale.ROOT, "Restart: service stopped in %.1f s, Cassandra in %.1f s; Cassandra started in %.1f s, the service in %.1f s;"
          + " all %,d twins back in memory %s after the service started.%n", stopService, stopCassandra, startCassandra, startService, twinsBefore,
          twinsBack == null ? "NOT" : String.format(Locale.ROOT, "%.1f s", twinsBack));
      out.printf(Locale.ROOT, "Reading every view took %.1f s before, %.1f s after.%n", readBefore, readAfter);
      if (!refusalsAfter.isEmpty()) {
        out.printf("%,d views answered with a status after the restart (%,d not NOT_FOUND)%n", refusalsAfter.size(), transientRefusals);
      }
      differences.stream().limit(10).forEach(d -> out.println("  DIFFERS " + d));
      out.println(passed ? String.format(Locale.ROOT, "Restart check PASSED: all %,d views identical before and after.", before.size())
          : String.format(Locale.ROOT, "Restart check FAILED: %,d of %,d views differ%s%s.", differences.size(), before.size(),
              changing.isEmpty() ? "" : "; the views were still changing before the restart",
              loadStatus == 0 ? "" : "; the load test failed (status " + loadStatus + ")"));
      out.println("JSON result: " + json.toAbsolutePath());
      return passed ? 0 : 1;
    } finally {
      if (node != null) {
        node.stop();
      }
      cassandra.close();
    }
  }

  private ViewSnapshot read(ManagedChannel channel, List<String> deviceIds, List<String> siteIds, String what) throws InterruptedException {
    Progress.Bar bar = new Progress.Bar();
    try (Progress p = Progress.bar(out, what, deviceIds.size(), bar)) {
      return ViewSnapshot.read(channel, deviceIds, siteIds, readConcurrency, bar);
    }
  }

  /** Waits until the node hosts {@code expected} twins again; how long it took, or null if not within the timeout. */
  private Double awaitTwins(ActorSystem<?> system, int expected) throws Exception {
    long start = System.nanoTime();
    int[] seen = {0};
    try (Progress p = Progress.line(out, () -> String.format(Locale.ROOT, "Twins back in memory: %,d of %,d after %.0f s", seen[0], expected,
        seconds(start)))) {
      while (System.nanoTime() - start < TWINS_BACK_TIMEOUT.toNanos()) {
        seen[0] = liveTwins(system);
        if (seen[0] >= expected) {
          return seconds(start);
        }
        Thread.sleep(200);
      }
    }
    return null;
  }

  /** Device twins in memory on this node, as sharding counts them. */
  static int liveTwins(ActorSystem<?> system) throws Exception {
    ShardRegion.ClusterShardingStats stats = AskPattern.<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
        ClusterSharding.get(system).shardState(),
        replyTo -> new GetClusterShardingStats(DeviceTwin.ENTITY_KEY, Duration.ofSeconds(5), replyTo),
        Duration.ofSeconds(10), system.scheduler()).toCompletableFuture().get();
    return stats.getRegions().values().stream().mapToInt(region -> region.getStats().values().stream().mapToInt(n -> ((Number) n).intValue()).sum()).sum();
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }


}
