package io.twinfleet.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.twinfleet.persistence.cassandra.EmbeddedCassandra;
import io.twinfleet.persistence.cassandra.EmbeddedCassandraSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code twinfleet} command line: {@code serve} and {@code cassandra}. */
@Command(
    name = "twinfleet",
    mixinStandardHelpOptions = true,
    description = "Digital twins for fleets of connected devices, and their customers' journeys.",
    subcommands = {Main.Serve.class, Main.Cassandra.class})
public final class Main implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  @Command(name = "serve", mixinStandardHelpOptions = true, description = "Runs one service node.")
  static final class Serve implements Callable<Integer> {

    @Option(names = "--embedded-cassandra", description = "Start a Cassandra node of its own under --data, and apply the schema.")
    boolean embeddedCassandra;

    @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file whose settings override the defaults.")
    Path configFile;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = ".twinfleet", description = "Where embedded data lives (default: ${DEFAULT-VALUE}).")
    Path data;

    @Override
    public Integer call() throws Exception {
      Config overrides = ConfigFactory.empty();
      if (configFile != null) {
        if (!Files.isReadable(configFile)) {
          throw new CommandLine.ParameterException(new CommandLine(this), "--config: cannot read " + configFile);
        }
        overrides = ConfigFactory.parseFile(configFile.toFile());
      }
      ServiceNode node;
      try {
        node = ServiceNode.start(overrides, data, embeddedCassandra);
      } catch (Exception e) {
        log.error("Startup failed: {}", e.toString());
        return 1;
      }
      System.out.printf("%nTwinfleet is up.%n  gRPC     127.0.0.1:%d  (try: grpcurl -plaintext 127.0.0.1:%d list)%n  HTTP     http://127.0.0.1:%d/ready%n  Ctrl-C stops it.%n%n",
          node.grpcPort(), node.grpcPort(), node.httpPort());
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
}
