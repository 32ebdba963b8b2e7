package io.twinfleet.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.Arrays;
import java.util.List;

/** Loads the service's settings: overrides, then application.conf and its includes, then env. */
public final class TwinfleetConfig {

  /** The actor system's name: every node of a cluster has it, and seed node addresses name it. */
  public static final String SYSTEM_NAME = "twinfleet";

  private TwinfleetConfig() {}

  /** {@code overrides} win over everything else (e.g. a --config file or a test's ports). */
  public static Config load(Config overrides) {
    Config config = ConfigFactory.load(overrides.withFallback(ConfigFactory.parseResourcesAnySyntax("application")));
    // The driver wants a list; the deploy-friendly setting is one comma-separated string.
    List<String> contactPoints = Arrays.stream(config.getString("twinfleet.cassandra.contact-points").split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .toList();
    if (contactPoints.isEmpty()) {
      throw new IllegalArgumentException("twinfleet.cassandra.contact-points is empty");
    }
    config = config.withValue("datastax-java-driver.basic.contact-points", ConfigValueFactory.fromIterable(contactPoints));
    List<String> seeds = commaSeparated(config.getString("twinfleet.cluster.seed-nodes")).stream().map(TwinfleetConfig::seedAddress).toList();
    return seeds.isEmpty() ? config : config.withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds));
  }

  private static List<String> commaSeparated(String list) {
    return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** A seed node as {@code host:port} (its remoting port), or a full {@code pekko://twinfleet@host:port} address. */
  static String seedAddress(String seed) {
    if (seed.matches("pekko://" + SYSTEM_NAME + "@[^:/@]+:\\d+")) {
      return seed;
    }
    if (!seed.matches("[^:/@]+:\\d+")) {
      throw new IllegalArgumentException("twinfleet.cluster.seed-nodes: '" + seed + "' is neither host:port (a node's remoting port) nor pekko://"
          + SYSTEM_NAME + "@host:port");
    }
    return "pekko://" + SYSTEM_NAME + "@" + seed;
  }
}
