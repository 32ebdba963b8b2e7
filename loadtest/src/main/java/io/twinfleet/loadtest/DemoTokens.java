package io.twinfleet.loadtest;

import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;

/** The demo's ready-to-use tokens, signed with its node's secret and kept as files to paste from. */
final class DemoTokens {

  static final Duration LIFE = Duration.ofDays(7);

  private final byte[] secret;
  private final Path directory;

  DemoTokens(byte[] secret, Path directory) throws IOException {
    this.secret = secret;
    this.directory = Files.createDirectories(directory);
  }

  Path directory() {
    return directory;
  }

  Path file(String name) {
    return directory.resolve(name + ".jwt");
  }

  /** Mints a token and writes it to {@code <name>.jwt}. */
  String write(String name, Role role, String customer, String device) {
    String token = Tokens.mint(secret, role, customer, device, LIFE, Instant.now());
    try {
      Path file = file(name);
      if (Files.notExists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      }
      Files.writeString(file, token + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return token;
  }

  String read(String name) throws IOException {
    return Files.readString(file(name)).strip();
  }
}
