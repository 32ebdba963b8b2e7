package io.twinfleet.loadtest;

import com.datastax.oss.driver.api.core.CqlSession;
import com.google.protobuf.util.Timestamps;
import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.persistence.Directories;
import io.twinfleet.persistence.cassandra.CassandraSchema;
import io.twinfleet.persistence.cassandra.EmbeddedCassandra;
import io.twinfleet.persistence.cassandra.EmbeddedCassandraSettings;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.service.TwinfleetConfig;
import io.twinfleet.service.security.SecuritySettings;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The failure scenario: three service nodes, each a JVM of its own on loopback, one Cassandra,
 * and a simulated fleet reporting to all three; while it runs, the third node is killed with
 * {@code kill -9}. Before the kill, a few devices whose twins live on that node fall silent for
 * good. Measured: how long until the survivors host every twin again and until the dead node's
 * devices are acknowledged again. Checked, besides the full referee of the load test: nothing is
 * lost on the way, and every silent device is marked offline at its deadline (its last stored
 * sighting plus offline-after, and at most a checkpoint interval later, since a kill loses what
 * only memory held).
 */
@Command(name = "failover", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Three service nodes on loopback under load; kill -9 one; check nothing is lost and measure the time to resume.")
public final class Failover implements Callable<Integer> {

  private static final int NODES = 3;
  private static final int SHARDS = 256; // pekko.cluster.sharding.number-of-shards

  @Option(names = "--devices", defaultValue = "3000", description = "Simulated devices (default: ${DEFAULT-VALUE}).")
  int devices;

  @Option(names = "--duration", defaultValue = "120s", description = "How long the fleet lives after provisioning (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--kill-after", defaultValue = "30s", description = "When, into the run, the third node is killed (default: ${DEFAULT-VALUE}).")
  String killAfter;

  @Option(names = "--speed", defaultValue = "60", description = "The service's clock speed (default: ${DEFAULT-VALUE}: a 5-minute heartbeat every 5 s).")
  double speed;

  @Option(names = "--witnesses", defaultValue = "20", description = "Devices on the killed node that fall silent before the kill (default: ${DEFAULT-VALUE}).")
  int witnesses;

  @Option(names = "--checkpoint-interval", defaultValue = "10s", description = "The nodes' twinfleet.device.checkpoint-interval, real time (default: ${DEFAULT-VALUE}).")
  String checkpointInterval;

  @Option(names = "--node-heap", defaultValue = "1g", description = "Maximum heap of each service node (default: ${DEFAULT-VALUE}).")
  String nodeHeap;

  @Option(names = "--streams", defaultValue = "6", description = "ReportStreams, spread over the nodes (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(names = "--provision-concurrency", defaultValue = "32", description = "Register/claim calls in flight while provisioning; three JVMs on one"
      + " machine create twins more slowly than one (default: ${DEFAULT-VALUE}).")
  int provisionConcurrency;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the fleet (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--verify", defaultValue = "all", description = "Devices the referee checks: all, none, or a number (default: ${DEFAULT-VALUE}).")
  String verify;

  @Option(names = "--cassandra", description = "host:port of a running Cassandra to use (with --keyspace); default: start one under --data.")
  String cassandra;

  @Option(names = "--keyspace", defaultValue = "twinfleet_failover", description = "Keyspace, created with the schema if missing (default: ${DEFAULT-VALUE}).")
  String keyspace;

  @Option(names = "--data", defaultValue = ".twinfleet/failover", description = "Where the nodes (and Cassandra) keep data and logs; emptied first (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--json", defaultValue = "failover-result.json", description = "Where to write the JSON result (default: ${DEFAULT-VALUE}).")
  Path json;

  private final PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    Duration kill = Durations.parse("--kill-after", killAfter);
    if (devices < NODES || witnesses < 0 || !(speed >= 1)) {
      throw new IllegalArgumentException("--devices must be at least 3, --witnesses at least 0, --speed at least 1");
    }
    Directories.deleteRecursively(data);
    Files.createDirectories(data);
    EmbeddedCassandra embedded = null;
    List<ForkedNode> nodes = new ArrayList<>();
    try {
      String contactPoint = cassandra;
      if (contactPoint == null) {
        out.println("Starting Cassandra...");
        embedded = EmbeddedCassandra.start(EmbeddedCassandraSettings.defaults().withDataDirectory(data.resolve("cassandra")).withCqlPort(0)
            .withStoragePort(0));
        contactPoint = "127.0.0.1:" + embedded.cqlPort();
      }
      Channels.requireLoopback("--cassandra", contactPoint);
      applySchema(contactPoint, keyspace);
      String secret = Credentials.randomSecret();
      String token = Credentials.writeAdminToken(secret, data);
      nodes = startNodes(contactPoint, secret);
      placeShards(nodes.get(0), token);

      LoadTest load = new LoadTest();
      new CommandLine(load).parseArgs("--token", token, "--target", String.join(",", nodes.stream().map(ForkedNode::grpcTarget).toList()),
          "--devices", String.valueOf(devices), "--duration", duration, "--speed", String.valueOf(speed), "--seed", String.valueOf(seed),
          "--activation-delay", "10m", "--streams", String.valueOf(streams), "--provision-concurrency", String.valueOf(provisionConcurrency), "--verify", verify, "--no-baselines", "--json", json.toString());
      Duration checkpointService = Duration.ofMillis((long) (Durations.parse("--checkpoint-interval", checkpointInterval).toMillis() * speed));
      Duration afterKill = Durations.parse("--duration", duration).minus(kill);
      Kill incident = new Kill(nodes, kill, checkpointService, Duration.ofMillis((long) (afterKill.toMillis() * speed)));
      load.incident = incident;
      int status = load.call();
      out.println(status == 0 ? "Failover PASSED: the referee and the failure checks found nothing wrong." : "Failover FAILED: see the mismatches above.");
      return status;
    } finally {
      for (ForkedNode n : nodes) {
        n.close();
      }
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  /** Creates {@code keyspace} (one replica) with the schema on the Cassandra at {@code contactPoint}, unless there. */
  static void applySchema(String contactPoint, String keyspace) {
    InetSocketAddress address = Channels.address(contactPoint);
    try (CqlSession session = EmbeddedCassandra.sessionBuilder(address, "datacenter1").build()) {
      CassandraSchema.createKeyspace(session, keyspace);
      CassandraSchema.apply(session, keyspace);
    }
  }

  private List<ForkedNode> startNodes(String contactPoint, String secret) throws IOException, InterruptedException {
    List<int[]> ports = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      ports.add(ForkedNode.freePorts());
    }
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("TWINFLEET_SEED_NODES", "127.0.0.1:" + ports.get(0)[2] + ",127.0.0.1:" + ports.get(1)[2]);
    settings.put("TWINFLEET_CASSANDRA_CONTACT_POINTS", contactPoint);
    settings.put("TWINFLEET_CASSANDRA_KEYSPACE", keyspace);
    settings.put("TWINFLEET_CLOCK_SPEED", String.valueOf(speed));
    settings.put("TWINFLEET_CHECKPOINT_INTERVAL", checkpointInterval);
    settings.put("TWINFLEET_JWT_SECRET", secret);
    List<ForkedNode> nodes = new ArrayList<>();
    out.printf("Starting %d service nodes (heap %s each), logs in %s/node-*/node.log...%n", NODES, nodeHeap, data);
    for (int i = 0; i < NODES; i++) {
      nodes.add(ForkedNode.start("node-" + (i + 1), ports.get(i), data.resolve("node-" + (i + 1)), settings, nodeHeap));
    }
    for (ForkedNode n : nodes) {
      n.awaitReady(Duration.ofMinutes(3));
    }
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    String seen = "no answer";
    while (true) {
      try {
        int up = nodes.get(0).upMembers();
        if (up == NODES) {
          break;
        }
        seen = up + " members up";
      } catch (IOException e) {
        seen = e.toString(); // a node just started may drop a connection or answer 500 once: ask again
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException("the three nodes did not form one cluster within a minute (last seen: " + seen + ")");
      }
      Thread.sleep(250);
    }
    out.printf("Cluster of %d nodes up: gRPC %s.%n", NODES, String.join(", ", nodes.stream().map(ForkedNode::grpcTarget).toList()));
    return nodes;
  }

  /**
   * Asks for one unknown device in every shard, so that the coordinator has placed all shards
   * before the fleet arrives (a fresh cluster places them one at a time, each a replicated write).
   */
  private void placeShards(ForkedNode node, String token) throws InterruptedException {
    long start = System.nanoTime();
    List<ManagedChannel> channels = Channels.open(node.grpcTarget(), 1, token);
    try {
      DeviceServiceGrpc.DeviceServiceFutureStub stub = DeviceServiceGrpc.newFutureStub(channels.get(0));
      Set<String> shards = new HashSet<>();
      List<com.google.common.util.concurrent.ListenableFuture<Device>> asks = new ArrayList<>();
      for (int n = 0; shards.size() < SHARDS; n++) {
        String id = "shard-probe-" + n;
        if (shards.add(shardOf(id))) {
          asks.add(stub.withDeadlineAfter(2, TimeUnit.MINUTES).getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build()));
        }
      }
      for (var ask : asks) {
        try {
          ask.get();
        } catch (java.util.concurrent.ExecutionException e) {
          // NOT_FOUND: the shard is placed, and its twin for the unknown id stopped at once
        }
      }
    } finally {
      Channels.close(channels);
    }
    out.printf(Locale.ROOT, "All %d shards placed in %.1f s.%n", SHARDS, (System.nanoTime() - start) / 1e9);
  }

  /** The shard of a device id, as sharding's default extractor computes it. */
  static String shardOf(String deviceId) {
    return String.valueOf(Math.abs(deviceId.hashCode() % SHARDS));
  }

  /** The kill: witnesses fall silent, the third node dies, and a watcher times the way back. */
  private final class Kill implements LoadTest.Incident {
    private final List<ForkedNode> nodes;
    private final Duration after;
    private final Duration checkpointService;
    private final List<Referee.Mismatch> mismatches = new ArrayList<>();
    private List<Integer> silent = List.of();
    private Set<String> victims = Set.of();
    private long killedAt;
    private int twinsBefore;
    private volatile long twinsBackAt;
    private volatile int twinsAfter;
    private Thread watcher;

    private final Duration serviceTimeLeft;

    /** {@code serviceTimeLeft}: how much service time the run has after the kill. */
    Kill(List<ForkedNode> nodes, Duration after, Duration checkpointService, Duration serviceTimeLeft) {
      this.nodes = nodes;
      this.after = after;
      this.checkpointService = checkpointService;
      this.serviceTimeLeft = serviceTimeLeft;
    }

    @Override
    public Duration after() {
      return after;
    }

    @Override
    public void happen(Simulation sim, RunStats stats) throws Exception {
      ForkedNode victim = nodes.get(NODES - 1);
      Set<String> shards = victim.deviceShards().keySet();
      twinsBefore = 0;
      for (ForkedNode n : nodes) {
        twinsBefore += n.deviceShards().values().stream().mapToInt(Integer::intValue).sum();
      }
      Fleet fleet = sim.fleet();
      List<Integer> onVictim = new ArrayList<>();
      Set<String> ids = new HashSet<>();
      for (int i = 0; i < fleet.size(); i++) {
        if (shards.contains(shardOf(fleet.deviceId(i)))) {
          onVictim.add(i);
          ids.add(fleet.deviceId(i));
        }
      }
      Collections.shuffle(onVictim, new Random(seed));
      // A kill loses the sightings its twins held only in memory: up to a checkpoint interval.
      onVictim.forEach(i -> stats.forgot(i, checkpointService.toMillis()));
      // Witnesses whose offline deadline, and the checkpoint interval of doubt, fall well within the run.
      List<Integer> dueInTime = onVictim.stream()
          .filter(i -> fleet.offlineAfter(i) + checkpointService.toMillis() < serviceTimeLeft.toMillis() / 2).toList();
      silent = sim.silence(dueInTime, witnesses);
      silent.forEach(i -> ids.remove(fleet.deviceId(i)));
      victims = ids;
      stats.watchAcceptance(victims);
      out.printf("%n%s hosts %d of %d shards and %,d of %,d twins; %d of its devices fall silent; kill -9 %s (pid %d).%n",
          victim.name, shards.size(), SHARDS, onVictim.size(), twinsBefore, silent.size(), victim.name, victim.pid());
      killedAt = System.nanoTime();
      victim.kill();
      watcher = new Thread(this::watchTwinsComeBack, "failover-watcher");
      watcher.setDaemon(true);
      watcher.start();
    }

    /** Polls the survivors until they host as many twins as the three did before the kill. */
    private void watchTwinsComeBack() {
      try {
        while (twinsBackAt == 0) {
          int hosted = 0;
          for (ForkedNode n : nodes.subList(0, NODES - 1)) {
            hosted += n.deviceShards().values().stream().mapToInt(Integer::intValue).sum();
          }
          twinsAfter = hosted;
          if (hosted >= twinsBefore) {
            twinsBackAt = System.nanoTime();
            return;
          }
          Thread.sleep(250);
        }
      } catch (IOException e) {
        twinsAfter = -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public Map<String, Object> outcome(Simulation sim, RunStats stats, ManagedChannel channel) throws Exception {
      watcher.interrupt();
      Fleet fleet = sim.fleet();
      Map<String, Long> first = stats.firstAccepted();
      List<Double> resumed = first.values().stream().map(at -> (at - killedAt) / 1e9).sorted().toList();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("killed", nodes.get(NODES - 1).name);
      m.put("twins_before", twinsBefore);
      m.put("twins_on_survivors", twinsAfter);
      m.put("all_twins_back_seconds", twinsBackAt == 0 ? null : (twinsBackAt - killedAt) / 1e9);
      m.put("dead_node_devices", victims.size());
      m.put("dead_node_devices_acknowledged_again", resumed.size());
      m.put("acknowledged_again_p50_seconds", percentile(resumed, 50));
      m.put("acknowledged_again_p99_seconds", percentile(resumed, 99));
      m.put("acknowledged_again_max_seconds", percentile(resumed, 100));
      if (twinsBackAt == 0) {
        mismatches.add(new Referee.Mismatch("(cluster)", "twins on the survivors", "at least " + twinsBefore, String.valueOf(twinsAfter)));
      }
      stats.errors().forEach((what, count) -> {
        if (what.contains("LOST")) {
          mismatches.add(new Referee.Mismatch("(streams)", what, "0", String.valueOf(count)));
        }
      });
      int offlineOnTime = checkWitnesses(fleet, stats, channel);
      m.put("silent_devices", silent.size());
      m.put("silent_devices_offline_on_time", offlineOnTime);
      out.printf(Locale.ROOT, "Kill -9 of %s: all %,d twins hosted by the survivors after %s s; the dead node's devices acknowledged again"
              + " after p50 %s s, p99 %s s (%,d of %,d before the fleet froze); %d of %d silent devices marked offline on time.%n",
          m.get("killed"), twinsBefore, fmt(m.get("all_twins_back_seconds")), fmt(m.get("acknowledged_again_p50_seconds")), fmt(m.get("acknowledged_again_p99_seconds")), resumed.size(), victims.size(),
          offlineOnTime, silent.size());
      return m;
    }

    /**
     * Every silent device is offline, from its deadline as the service can know it: no earlier than
     * its last report plus offline-after, no later than a checkpoint interval after that (plus the
     * longest any of its readings took to arrive, as the service counts from arrival).
     */
    private int checkWitnesses(Fleet fleet, RunStats stats, ManagedChannel channel) {
      DeviceServiceGrpc.DeviceServiceBlockingStub stub = DeviceServiceGrpc.newBlockingStub(channel);
      int onTime = 0;
      for (int i : silent) {
        String id = fleet.deviceId(i);
        Device d = stub.withDeadlineAfter(10, TimeUnit.SECONDS).getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build());
        long deadline = fleet.lastSent(i) + fleet.offlineAfter(i);
        long since = Timestamps.toMillis(d.getConnectivitySince());
        if (d.getOnline()) {
          mismatches.add(new Referee.Mismatch(id, "online (silent since its twin's node was killed)", "false", "true"));
        } else if (since < deadline || since > deadline + checkpointService.toMillis() + stats.longest(i)) {
          mismatches.add(new Referee.Mismatch(id, "offline since", Timestamps.toString(Timestamps.fromMillis(deadline))
              + " (+ up to " + checkpointService + " + " + Duration.ofMillis(stats.longest(i)) + ")", Timestamps.toString(d.getConnectivitySince())));
        } else {
          onTime++;
        }
      }
      return onTime;
    }

    @Override
    public List<Referee.Mismatch> mismatches() {
      return mismatches;
    }
  }

  private static Double percentile(List<Double> sorted, double p) {
    if (sorted.isEmpty()) {
      return null;
    }
    int index = (int) Math.ceil(p / 100 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private static String fmt(Object seconds) {
    return seconds == null ? "-" : String.format(Locale.ROOT, "%.1f", (Double) seconds);
  }
}
