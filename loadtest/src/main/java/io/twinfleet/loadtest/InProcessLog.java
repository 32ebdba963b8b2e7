package io.twinfleet.loadtest;

import java.nio.file.Path;

/** Where a service node started in this JVM logs (the demo, the restart check): a file, not the terminal. */
final class InProcessLog {

  private InProcessLog() {}

  /** Sends all logging to {@code file}; takes effect only before the first logger is made, so call it first. */
  static void toFile(Path file) {
    System.setProperty("twinfleet.log.file", file.toAbsolutePath().toString());
    System.setProperty("logback.configurationFile", "io/twinfleet/loadtest/logback-file.xml");
  }
}
