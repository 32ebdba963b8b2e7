package io.twinfleet.loadtest;

import com.typesafe.config.ConfigFactory;
import io.twinfleet.service.TwinfleetConfig;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Secrets;
import io.twinfleet.service.security.SecuritySettings;
import io.twinfleet.service.security.Tokens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The token the load generator sends: {@code --token}, else {@code TWINFLEET_TOKEN}, else an admin
 * token it mints with the development secret of a service on this machine (the one under
 * {@code --data}, as {@code ./twinfleet token} would).
 */
final class Credentials {

  @Option(names = "--token", description = "Bearer token for the service (default: $TWINFLEET_TOKEN, else an admin token minted with the development secret under --data).")
  String token;

  @Option(names = "--data", defaultValue = ".twinfleet", description = "The service's data directory, whose development secret mints the token when none is given (default: ${DEFAULT-VALUE}).")
  Path data;

  String token() throws IOException {
    if (token != null) {
      return token;
    }
    String env = System.getenv("TWINFLEET_TOKEN");
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    return adminToken(SecuritySettings.fromConfig(TwinfleetConfig.load(ConfigFactory.empty()), data), Duration.ofDays(7));
  }

  /** An admin token signed with the development secret of {@code settings}. */
  static String adminToken(SecuritySettings settings, Duration ttl) throws IOException {
    return Tokens.mint(Secrets.existing(settings), Role.ADMIN, null, null, ttl, Instant.now());
  }

  /** A fresh HS256 secret for nodes a scenario starts: 32 random bytes, hex. */
  static String randomSecret() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /**
   * An admin token for nodes a scenario starts with {@code secret}, valid for a day, also written
   * to {@code data/admin-token} (owner only) for looking around while the scenario runs.
   */
  static String writeAdminToken(String secret, Path data) throws IOException {
    String token = adminToken(SecuritySettings.fromConfig(TwinfleetConfig.load(
        ConfigFactory.parseMap(Map.of("twinfleet.security.jwt-secret", secret))), data), Duration.ofDays(1));
    Path file = data.resolve("admin-token");
    Files.writeString(file, token);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    System.out.printf("An admin token for looking around while it runs is in %s.%n", file);
    return token;
  }
}
