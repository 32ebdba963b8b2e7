package io.twinfleet.service.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The HS256 secret: the configured one ({@code TWINFLEET_JWT_SECRET}), else the one in the secret
 * file, which is generated (256 random bits, readable by its owner only) the first time a node or
 * {@code ./twinfleet token} needs it. A development convenience: production configures keys.
 */
public final class Secrets {

  /** HS256 needs a key of at least 256 bits. */
  static final int MIN_BYTES = 32;

  private Secrets() {}

  public static byte[] hs256(SecuritySettings settings) throws IOException {
    if (settings.jwtSecret().isPresent()) {
      return configured(settings.jwtSecret().get());
    }
    Path file = settings.jwtSecretFile();
    if (!Files.exists(file)) {
      generate(file);
    }
    return read(file);
  }

  /**
   * The secret a service on these settings checks tokens with, without generating one: for clients
   * that mint their own token, which a freshly generated secret would make useless.
   */
  public static byte[] existing(SecuritySettings settings) throws IOException {
    if (settings.jwtSecret().isPresent()) {
      return configured(settings.jwtSecret().get());
    }
    if (!Files.exists(settings.jwtSecretFile())) {
      throw new IllegalArgumentException("no development secret in " + settings.jwtSecretFile()
          + ": give a token (--token or TWINFLEET_TOKEN), or the data directory of the service (--data)");
    }
    return read(settings.jwtSecretFile());
  }

  private static byte[] configured(String text) {
    byte[] secret = text.getBytes(StandardCharsets.UTF_8);
    if (secret.length < MIN_BYTES) {
      throw new IllegalArgumentException("twinfleet.security.jwt-secret (TWINFLEET_JWT_SECRET) must be at least " + MIN_BYTES
          + " bytes for HS256, was " + secret.length);
    }
    return secret;
  }

  /** Written whole under another name, owner-only from the start, then renamed: nobody reads half a secret. */
  private static void generate(Path file) throws IOException {
    byte[] fresh = new byte[MIN_BYTES];
    new SecureRandom().nextBytes(fresh);
    Path dir = Files.createDirectories(file.toAbsolutePath().getParent());
    Path partial = ownerOnly(dir, file.getFileName() + ".partial-");
    Files.writeString(partial, Base64.getEncoder().encodeToString(fresh) + "\n");
    try {
      Files.move(partial, file);
    } catch (FileAlreadyExistsException raced) {
      Files.delete(partial); // another process made one first: use theirs
    }
  }

  private static Path ownerOnly(Path dir, String prefix) throws IOException {
    try {
      return Files.createTempFile(dir, prefix, "", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException notPosix) {
      return Files.createTempFile(dir, prefix, "");
    }
  }

  private static byte[] read(Path file) throws IOException {
    byte[] secret;
    try {
      secret = Base64.getDecoder().decode(Files.readString(file).strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + " does not hold a Base64 secret: " + e.getMessage());
    }
    if (secret.length < MIN_BYTES) {
      throw new IllegalArgumentException("the secret in " + file + " is shorter than " + MIN_BYTES + " bytes");
    }
    return secret;
  }
}
