package io.twinfleet.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The load generator's command line. */
@Command(
    name = "twinfleet",
    mixinStandardHelpOptions = true,
    description = "Drives a running Twinfleet service over gRPC.",
    subcommands = {Demo.class, LoadTest.class, IngestBenchmark.class, Failover.class, RestartCheck.class, Outage.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    // A wrong option value is the user's to fix: say what, without a stack trace.
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof IllegalArgumentException) {
        cmd.getErr().println(cmd.getCommandName() + ": " + e.getMessage());
        return 2;
      }
      throw e;
    });
    System.exit(cli.execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
