package io.twinfleet.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.Arrays;
import java.util.List;

/** Loads the service's settings: overrides, then application.conf and its includes, then env. */
public final class TwinfleetConfig {

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
    return config.withValue("datastax-java-driver.basic.contact-points", ConfigValueFactory.fromIterable(contactPoints));
  }
}
