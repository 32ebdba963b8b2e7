package io.twinfleet.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.twinfleet.persistence.cassandra.EmbeddedCassandra;
import io.twinfleet.persistence.cassandra.EmbeddedCassandraSettings;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Secrets;
import io.twinfleet.service.security.SecuritySettings;
import io.twinfleet.service.security.Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The {@code twinfleet} command line: {@code serve}, {@code cassandra}, {@code schema} and {@code token}. */
@Command(
    name = "twinfleet",
    mixinStandardHelpOptions = true,
    description = "Digital twins for fleets of connected devices, and their customers' journeys.",
    subcommands = {Main.Serve.class, Main.Cassandra.class, Main.Schema.class, Main.Token.class})
public final class Main implements Runnable {

  // Before the logger below: its first use configures logging, which reads the format.
  static {
    String format = System.getProperty("twinfleet.log.format", System.getenv().getOrDefault("TWINFLEET_LOG_FORMAT", "text"));
    if (!format.equals("text") && !format.equals("json")) {
      System.err.println("TWINFLEET_LOG_FORMAT (or -Dtwinfleet.log.format) is text or json, not \"" + format + "\"");
      System.exit(2);
    }
  }

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /** Which node's settings and data a command means: {@code serve}'s, and {@code token}'s for that node. */
  static final class NodeOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file whose settings override the defaults.")
    Path configFile;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = ".twinfleet",
        description = "The node's data: embedded Cassandra, the generated development secret (default: ${DEFAULT-VALUE}).")
    Path data;

    Config overrides() {
      if (configFile == null) {
        return ConfigFactory.empty();
      }
      if (!Files.isReadable(configFile)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--config: cannot read " + configFile);
      }
      return ConfigFactory.parseFile(configFile.toFile());
    }
  }

  @Command(name = "serve", mixinStandardHelpOptions = true, description = "Runs one service node.")
  static final class Serve implements Callable<Integer> {

    @Option(names = "--embedded-cassandra", description = "Start a Cassandra node of its own under --data, and apply the schema.")
    boolean embeddedCassandra;

    @Mixin
    NodeOptions options = new NodeOptions();

    @Override
    public Integer call() throws Exception {
      Path data = options.data;
      Config overrides = options.overrides();
      ServiceNode node;
      try {
        node = ServiceNode.start(overrides, data, embeddedCassandra);
      } catch (Exception e) {
        log.error("Startup failed: {}", e.toString());
        return 1;
      }
      System.out.printf("%nTwinfleet is up.%n  gRPC     127.0.0.1:%d  (try: grpcurl -plaintext 127.0.0.1:%d list)%n  HTTP     http://127.0.0.1:%d/ready%n"
          + "  Tokens   ./twinfleet token --role admin%s  (see README, Security)%n  Ctrl-C stops it.%n%n",
          node.grpcPort(), node.grpcPort(), node.httpPort(), data.equals(Path.of(".twinfleet")) ? "" : " --data " + data);
      node.awaitTermination();
      return exitStatus(node);
    }
  }

  /**
   * 0 when the node was asked to stop (Ctrl-C, SIGTERM); 1 when it stopped on its own, e.g. because
   * its journal failed, so that a supervisor sees a failure and restarts it.
   */
  static int exitStatus(ServiceNode node) {
    return node.shutdownReason()
        .map(reason -> {
          if (reason == CoordinatedShutdown.jvmExitReason()) {
            return 0;
          }
          log.error("The node stopped on its own: {}", reason);
          return 1;
        })
        .orElse(0);
  }

  @Command(name = "cassandra", mixinStandardHelpOptions = true, description = "Runs an embedded Cassandra node in the foreground.")
  static final class Cassandra implements Callable<Integer> {

    @Option(names = "--data", paramLabel = "DIR", defaultValue = ".twinfleet/cassandra", description = "Data directory (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--port", paramLabel = "P", defaultValue = "9042", description = "CQL port (default: ${DEFAULT-VALUE}).")
    int port;

    @Override
    public Integer call() throws Exception {
      try (EmbeddedCassandra node = EmbeddedCassandra.start(
          EmbeddedCassandraSettings.defaults().withDataDirectory(data).withCqlPort(port))) {
        System.out.printf("%nCassandra is up: CQL on 127.0.0.1:%d (datacenter %s), data in %s, pid %d. Ctrl-C stops it.%n",
            node.cqlPort(), node.localDatacenter(), node.dataDirectory(), node.pid());
        Thread.currentThread().join();
      }
      return 0;
    }
  }

  @Command(name = "schema", mixinStandardHelpOptions = true,
      description = {"Creates the keyspace unless it exists (NetworkTopologyStrategy, the given replicas in the configured datacenter)"
          + " and applies the schema; every statement is IF NOT EXISTS, so running it again is harmless. Production and Kubernetes Jobs;"
          + " exits 1 when Cassandra cannot be reached, for the caller to retry."})
  static final class Schema implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--replication-factor", required = true, paramLabel = "N", description = "Replicas in the datacenter (1..9; 3 in production).")
    int replicas;

    @Mixin
    NodeOptions options = new NodeOptions();

    @Override
    public Integer call() {
      if (replicas < 1 || replicas > 9) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--replication-factor: " + replicas + " is out of range 1..9");
      }
      Config config = TwinfleetConfig.load(options.overrides());
      try {
        String replication = TwinfleetService.applySchema(config, replicas);
        System.out.printf("Schema applied to keyspace %s (replication %s).%n", config.getString("twinfleet.cassandra.keyspace"), replication);
        return 0;
      } catch (RuntimeException e) {
        log.error("Schema not applied: {}", e.toString());
        return 1;
      }
    }
  }

  @Command(name = "token", mixinStandardHelpOptions = true,
      description = "Mints a development token (HS256) with the secret a node on the same settings and --data checks tokens with.")
  static final class Token implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--role", required = true, paramLabel = "R", description = "device, app, journey or admin.")
    String role;

    @Option(names = "--customer", paramLabel = "C", description = "The customer an app token sees (required for app).")
    String customer;

    @Option(names = "--device", paramLabel = "D", description = "The device a device token reports for (required for device).")
    String device;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "24h", description = "How long the token is valid, in real time (default: ${DEFAULT-VALUE}).")
    String ttl;

    @Mixin
    NodeOptions options = new NodeOptions();

    @Override
    public Integer call() throws Exception {
      CommandLine cl = spec.commandLine();
      SecuritySettings settings = SecuritySettings.fromConfig(TwinfleetConfig.load(options.overrides()), options.data);
      if (settings.publicKeysOnly()) {
        throw new CommandLine.ParameterException(cl, "this configuration checks RS256 tokens with public keys only: "
            + "tokens come from the holder of the private key, not from here");
      }
      Role r;
      Duration life;
      try {
        r = Role.ofClaim(role);
        life = ConfigFactory.parseString("d = \"" + ttl + "\"").getDuration("d");
      } catch (RuntimeException e) {
        throw new CommandLine.ParameterException(cl, e.getMessage());
      }
      try {
        cl.getOut().println(Tokens.mint(Secrets.hs256(settings), r, customer, device, life, Instant.now()));
        cl.getOut().flush();
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, e.getMessage());
      }
      return 0;
    }
  }
}
