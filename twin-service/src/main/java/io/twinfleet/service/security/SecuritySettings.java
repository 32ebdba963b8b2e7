package io.twinfleet.service.security;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code twinfleet.security} settings, read once. Paths that are empty are absent; a relative
 * {@code jwt-secret-file} lives under the node's data directory.
 */
public record SecuritySettings(
    boolean insecure,
    Optional<String> jwtSecret,
    Path jwtSecretFile,
    Optional<Path> jwtPublicKeyFile,
    Optional<Path> jwtJwksFile,
    Duration clockSkew,
    Optional<Path> tlsCertFile,
    Optional<Path> tlsKeyFile) {

  public SecuritySettings {
    if (tlsCertFile.isPresent() != tlsKeyFile.isPresent()) {
      throw new IllegalArgumentException("twinfleet.security.tls-cert-file and tls-key-file go together: set both or neither");
    }
  }

  public static SecuritySettings fromConfig(Config root, Path dataDir) {
    Config c = root.getConfig("twinfleet.security");
    Path secretFile = Path.of(c.getString("jwt-secret-file"));
    return new SecuritySettings(
        c.getBoolean("insecure"),
        nonEmpty(c.getString("jwt-secret")),
        secretFile.isAbsolute() ? secretFile : dataDir.resolve(secretFile),
        nonEmpty(c.getString("jwt-public-key-file")).map(Path::of),
        nonEmpty(c.getString("jwt-jwks-file")).map(Path::of),
        c.getDuration("clock-skew"),
        nonEmpty(c.getString("tls-cert-file")).map(Path::of),
        nonEmpty(c.getString("tls-key-file")).map(Path::of));
  }

  /** Whether tokens are checked with public keys only (production), so no secret is generated. */
  public boolean publicKeysOnly() {
    return jwtSecret.isEmpty() && (jwtPublicKeyFile.isPresent() || jwtJwksFile.isPresent());
  }

  private static Optional<String> nonEmpty(String s) {
    return s.isBlank() ? Optional.empty() : Optional.of(s);
  }
}
