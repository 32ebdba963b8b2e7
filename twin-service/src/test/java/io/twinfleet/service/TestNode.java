package io.twinfleet.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Tokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A real service node for tests: its own ActorSystem on free ports, the test class's keyspace on
 * the forked Cassandra, and a plaintext gRPC channel to it over loopback.
 */
public final class TestNode implements AutoCloseable {

  private final ActorSystem<Void> system;
  private final TwinfleetService.Running running;
  private final ManagedChannel channel;

  /** The HS256 secret of every test node. */
  public static final String SECRET = "twinfleet-test-secret-of-at-least-32-bytes";

  private TestNode(ActorSystem<Void> system, TwinfleetService.Running running) {
    this.system = system;
    this.running = running;
    this.channel = channel(token(Role.ADMIN, null, null));
  }

  /** A token for this node (and every other test node). */
  public static String token(Role role, String customer, String device) {
    return Tokens.mint(SECRET.getBytes(StandardCharsets.UTF_8), role, customer, device, Duration.ofHours(1), Instant.now());
  }

  /** A new plaintext channel to this node sending {@code token}, or none when null; the caller closes it. */
  public ManagedChannel channel(String token) {
    NettyChannelBuilder b = NettyChannelBuilder.forAddress("127.0.0.1", running.grpc().port()).usePlaintext();
    return token == null ? b.build() : b.intercept(Tokens.bearer(token)).build();
  }

  /**
   * Every test keyspace is new, so its tagged events begin today: reading them from the beginning
   * (projections, stage change watches) need not walk every hour since the service's default.
   */
  private static final String FIRST_TIME_BUCKET =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HH:mm").withZone(ZoneOffset.UTC).format(Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.HOURS));

  public static TestNode start(TestKeyspace ks, String extraConfig) throws Exception {
    return start(ks.host(), ks.port(), ks.keyspace(), extraConfig);
  }

  /** A node on {@code keyspace} (with the schema applied) of the Cassandra node at {@code host:port}. */
  public static TestNode start(String host, int port, String keyspace, String extraConfig) throws Exception {
    Config overrides = ConfigFactory.parseString(extraConfig).withFallback(ConfigFactory.parseString("""
        twinfleet.cassandra.keyspace = "%s"
        twinfleet.cassandra.contact-points = "%s:%d"
        twinfleet.cassandra.apply-schema = off
        twinfleet.grpc.port = 0
        twinfleet.security.jwt-secret = "%s"
        pekko.remote.artery.canonical.port = 0
        pekko.management.http.port = 0
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.persistence.cassandra.events-by-tag.eventual-consistency-delay = 1s
        pekko.persistence.cassandra.events-by-tag.first-time-bucket = "%s"
        """.formatted(keyspace, host, port, SECRET, FIRST_TIME_BUCKET)));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "twinfleet", TwinfleetConfig.load(overrides));
    try {
      return new TestNode(system, TwinfleetService.start(system, Path.of("target")));
    } catch (Exception e) {
      system.terminate();
      throw e;
    }
  }

  public ManagedChannel channel() {
    return channel;
  }

  public int grpcPort() {
    return running.grpc().port();
  }

  public int httpPort() {
    return running.httpPort();
  }

  public ServiceClock clock() {
    return running.clock();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** A graceful stop, as CoordinatedShutdown does it: gRPC first, then shard hand-off, then the rest. */
  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    system.terminate();
    // Up to the shard regions' 90 s hand-off phase and then some: a node stopped seconds after it
    // started can wait all of it (a sharded daemon process's pings, buffered for shards that never
    // got a home while the coordinator left; seen in QualityIntegrationTest's restart).
    system.getWhenTerminated().toCompletableFuture().get(Duration.ofSeconds(150).toSeconds(), TimeUnit.SECONDS);
  }
}
