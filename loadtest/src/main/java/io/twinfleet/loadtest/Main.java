package io.twinfleet.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The load generator's command line. */
@Command(
    name = "twinfleet",
    mixinStandardHelpOptions = true,
    description = "Drives a running Twinfleet service over gRPC.",
    subcommands = {IngestBenchmark.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
