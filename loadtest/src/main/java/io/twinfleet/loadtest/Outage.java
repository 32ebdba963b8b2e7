package io.twinfleet.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.persistence.Directories;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Cassandra stopped under load: a Cassandra node, a service node in a JVM of its own and a
 * simulated fleet reporting to it; at {@code --stop-after} Cassandra is stopped for
 * {@code --outage}, then started again on the same data. Meanwhile a command that must store
 * something is tried every second: it must be refused with UNAVAILABLE at once, never hang. The
 * service's live heap is sampled throughout. Checked afterwards, besides the load test's referee
 * (nothing acknowledged lost): every refusal was UNAVAILABLE and prompt, no reading was given up
 * (the gateway resent the refused ones), and commands are accepted again once Cassandra is back.
 */
@Command(name = "outage", mixinStandardHelpOptions = true, sortOptions = false,
    description = "A service node under load; stop Cassandra for a while, then start it again; check nothing hangs or is lost, and measure heap and healing.")
public final class Outage implements Callable<Integer> {

  private static final Duration PROBE_EVERY = Duration.ofSeconds(1);
  private static final Duration HEAP_EVERY = Duration.ofSeconds(5);
  private static final Duration HEAL_TIMEOUT = Duration.ofMinutes(3);
  /** Time the node is given to notice Cassandra has gone (it asks every half second). */
  private static final Duration NOTICE = Duration.ofSeconds(5);

  @Option(names = "--devices", defaultValue = "2000", description = "Simulated devices (default: ${DEFAULT-VALUE}).")
  int devices;

  @Option(names = "--duration", defaultValue = "150s", description = "How long the fleet lives after provisioning (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--stop-after", defaultValue = "40s", description = "When, into the run, Cassandra is stopped (default: ${DEFAULT-VALUE}).")
  String stopAfter;

  @Option(names = "--outage", defaultValue = "30s", description = "How long Cassandra stays stopped (default: ${DEFAULT-VALUE}).")
  String outage;

  @Option(names = "--speed", defaultValue = "60", description = "The service's clock speed (default: ${DEFAULT-VALUE}).")
  double speed;

  @Option(names = "--heartbeat-divisor", defaultValue = "1", description = "Divide every model's heartbeat interval by this: more readings per device (default: ${DEFAULT-VALUE}).")
  int heartbeatDivisor;

  @Option(names = "--activation-delay", defaultValue = "10m", description = "Mean simulated time from claim to first report (default: ${DEFAULT-VALUE}).")
  String activationDelay;

  @Option(names = "--node-heap", defaultValue = "1g", description = "Maximum heap of the service node (default: ${DEFAULT-VALUE}).")
  String nodeHeap;

  @Option(names = "--streams", defaultValue = "4", description = "ReportStreams (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(names = "--provision-concurrency", defaultValue = "64", description = "Register/claim calls in flight while provisioning (default: ${DEFAULT-VALUE}).")
  int provisionConcurrency;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the fleet (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--verify", defaultValue = "all", description = "Devices the referee checks: all, none, or a number (default: ${DEFAULT-VALUE}).")
  String verify;

  @Option(names = "--data", defaultValue = ".twinfleet/outage", description = "Where Cassandra and the node keep data and logs; emptied first (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--json", defaultValue = "outage-result.json", description = "Where to write the JSON result (default: ${DEFAULT-VALUE}).")
  Path json;

  private final PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    Duration stop = Durations.parse("--stop-after", stopAfter);
    Duration away = Durations.parse("--outage", outage);
    if (devices < 1 || !(speed >= 1) || away.isZero() || away.isNegative()) {
      throw new IllegalArgumentException("--devices at least 1, --speed at least 1, --outage longer than 0");
    }
    Directories.deleteRecursively(data);
    Files.createDirectories(data);
    String keyspace = "twinfleet";
    out.println("Starting Cassandra...");
    RestartableCassandra cassandra = RestartableCassandra.start(data.resolve("cassandra"));
    String contactPoint = cassandra.contactPoint();
    ForkedNode node = null;
    try {
      Failover.applySchema(contactPoint, keyspace);
      String secret = Credentials.randomSecret();
      String token = Credentials.writeAdminToken(secret, data);
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put("TWINFLEET_CASSANDRA_CONTACT_POINTS", contactPoint);
      settings.put("TWINFLEET_CASSANDRA_KEYSPACE", keyspace);
      settings.put("TWINFLEET_CLOCK_SPEED", String.valueOf(speed));
      settings.put("TWINFLEET_JWT_SECRET", secret);
      out.printf("Starting a service node (heap %s), log in %s/node/node.log...%n", nodeHeap, data);
      node = ForkedNode.start("node", ForkedNode.freePorts(), data.resolve("node"), settings, nodeHeap);
      node.awaitReady(Duration.ofMinutes(3));

      LoadTest load = new LoadTest();
      new CommandLine(load).parseArgs("--token", token, "--target", node.grpcTarget(), "--devices", String.valueOf(devices),
          "--duration", duration, "--speed", String.valueOf(speed), "--seed", String.valueOf(seed), "--streams", String.valueOf(streams),
          "--provision-concurrency", String.valueOf(provisionConcurrency), "--verify", verify, "--no-baselines", "--json", json.toString(),
          "--heartbeat-divisor", String.valueOf(heartbeatDivisor), "--activation-delay", activationDelay);
      load.incident = new CassandraAway(stop, away, node, token, cassandra);
      int status = load.call();
      out.println(status == 0 ? "Outage PASSED: the referee and the outage checks found nothing wrong." : "Outage FAILED: see the mismatches above.");
      return status;
    } finally {
      if (node != null) {
        node.close();
      }
      cassandra.close();
    }
  }

  /** The outage: Cassandra stopped, probed commands and heap samples meanwhile, Cassandra started again, healing timed. */
  private final class CassandraAway implements LoadTest.Incident {
    private final Duration after;
    private final Duration away;
    private final ForkedNode node;
    private final String token;
    private final RestartableCassandra cassandra;
    private final List<Referee.Mismatch> mismatches = new ArrayList<>();
    private final List<Long> refusalMillis = new ArrayList<>();
    private final Map<String, Integer> probeAnswers = new TreeMap<>();
    private final List<Long> heapDuring = new ArrayList<>();
    private long heapBefore;
    private long heapAfter;
    private double stoppingSeconds;
    private double startingSeconds;
    private Double healedSeconds;
    private long resentBefore;
    private long resentAfter;
    private int probes;

    CassandraAway(Duration after, Duration away, ForkedNode node, String token, RestartableCassandra cassandra) {
      this.after = after;
      this.away = away;
      this.node = node;
      this.token = token;
      this.cassandra = cassandra;
    }

    @Override
    public Duration after() {
      return after;
    }

    @Override
    public void happen(Simulation sim, RunStats stats) throws Exception {
      heapBefore = ServerHeap.usedAfterFullGc(node.pid());
      resentBefore = stats.readingsResent.sum();
      out.printf(Locale.ROOT, "%nStopping Cassandra for %s (the node's live heap: %.0f MB)...%n", Durations.human(away.toMillis()), heapBefore / 1e6);
      long t = System.nanoTime();
      cassandra.stop();
      long stopped = System.nanoTime();
      stoppingSeconds = (stopped - t) / 1e9;
      List<ManagedChannel> channels = Channels.open(node.grpcTarget(), 1, token);
      try {
        DeviceServiceGrpc.DeviceServiceBlockingStub devices = DeviceServiceGrpc.newBlockingStub(channels.get(0));
        long nextHeap = System.nanoTime();
        while (System.nanoTime() - stopped < away.toNanos()) {
          if (System.nanoTime() >= nextHeap) {
            heapDuring.add(ServerHeap.usedAfterFullGc(node.pid()));
            nextHeap += HEAP_EVERY.toNanos();
          }
          long asked = System.nanoTime();
          Status.Code code = register(devices, "outage-probe-" + probes++);
          long took = (System.nanoTime() - asked) / 1_000_000;
          probeAnswers.merge(code.name(), 1, Integer::sum);
          if (code == Status.Code.UNAVAILABLE) {
            refusalMillis.add(took);
          } else if (asked - stopped > NOTICE.toNanos()) {
            // before the node has seen Cassandra go, a command may still wait for it and fail otherwise
            mismatches.add(new Referee.Mismatch("(outage)", "RegisterDevice while Cassandra is away", "UNAVAILABLE", code + " after " + took + " ms"));
          }
          Thread.sleep(PROBE_EVERY.toMillis());
        }
        out.println("Starting Cassandra again on the same data...");
        t = System.nanoTime();
        cassandra.start();
        long started = System.nanoTime();
        startingSeconds = (started - t) / 1e9;
        while (healedSeconds == null && System.nanoTime() - started < HEAL_TIMEOUT.toNanos()) {
          if (register(devices, "outage-probe-" + probes++) == Status.Code.OK) {
            healedSeconds = (System.nanoTime() - started) / 1e9;
          } else {
            Thread.sleep(250);
          }
        }
      } finally {
        Channels.close(channels);
      }
      heapAfter = ServerHeap.usedAfterFullGc(node.pid());
      resentAfter = stats.readingsResent.sum();
      if (healedSeconds == null) {
        mismatches.add(new Referee.Mismatch("(outage)", "RegisterDevice after Cassandra is back", "OK within " + HEAL_TIMEOUT, "still refused"));
      }
      out.printf(Locale.ROOT, "Cassandra back after %.1f s of starting; commands accepted again %s s after it started.%n", startingSeconds,
          healedSeconds == null ? "NOT" : String.format(Locale.ROOT, "%.1f", healedSeconds));
    }

    private Status.Code register(DeviceServiceGrpc.DeviceServiceBlockingStub devices, String id) {
      try {
        devices.withDeadlineAfter(30, TimeUnit.SECONDS).registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(id).setModel("probe")
            .setSerial(id).build());
        return Status.Code.OK;
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode();
      }
    }

    @Override
    public Map<String, Object> outcome(Simulation sim, RunStats stats, ManagedChannel channel) {
      List<Long> sorted = refusalMillis.stream().sorted().toList();
      long heapMax = heapDuring.stream().mapToLong(Long::longValue).max().orElse(0);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("outage_seconds", away.toSeconds());
      m.put("cassandra_stopping_seconds", stoppingSeconds);
      m.put("cassandra_starting_seconds", startingSeconds);
      m.put("commands_accepted_again_seconds", healedSeconds);
      m.put("probe_answers", probeAnswers);
      m.put("refusal_ms_p50", sorted.isEmpty() ? null : sorted.get(sorted.size() / 2));
      m.put("refusal_ms_max", sorted.isEmpty() ? null : sorted.get(sorted.size() - 1));
      m.put("heap_before_mb", heapBefore / 1e6);
      m.put("heap_during_mb", heapDuring.stream().map(h -> h / 1e6).toList());
      m.put("heap_after_mb", heapAfter / 1e6);
      m.put("readings_resent_during", resentAfter - resentBefore);
      stats.errors().forEach((what, count) -> {
        if (what.startsWith("reading ") || what.contains("LOST")) {
          mismatches.add(new Referee.Mismatch("(streams)", what + " (given up)", "0", String.valueOf(count)));
        }
      });
      out.printf(Locale.ROOT, "Cassandra away %d s: %d commands refused UNAVAILABLE (p50 %s ms, max %s ms); %,d readings resent meanwhile;"
              + " node live heap %.0f MB before, at most %.0f MB during, %.0f MB after.%n", away.toSeconds(), sorted.size(), m.get("refusal_ms_p50"),
          m.get("refusal_ms_max"), resentAfter - resentBefore, heapBefore / 1e6, heapMax / 1e6, heapAfter / 1e6);
      return m;
    }

    @Override
    public List<Referee.Mismatch> mismatches() {
      return mismatches;
    }
  }
}
