package io.twinfleet.loadtest;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * A status line refreshed in place once a second on a terminal (every ten seconds into a log),
 * for work that takes a while: a bar with rate and time left when the total is known.
 */
final class Progress implements AutoCloseable {

  /** Something that counts finished units of work. */
  interface Counter {
    void increment();
  }

  /** A counter for a bar. */
  static final class Bar implements Counter {
    private final LongAdder done = new LongAdder();

    @Override
    public void increment() {
      done.increment();
    }

    long done() {
      return done.sum();
    }
  }

  /** Counts nothing, for callers that show no progress. */
  static final Counter NONE = () -> {};

  private static final boolean TERMINAL = System.console() != null;

  private final PrintStream out;
  private final Thread thread;

  private Progress(PrintStream out, Supplier<String> line) {
    this.out = out;
    this.thread = new Thread(() -> {
      try {
        while (true) {
          Thread.sleep(TERMINAL ? 1000 : 10_000);
          print(line.get());
        }
      } catch (InterruptedException e) {
        print(line.get());
      }
    }, "progress");
    thread.setDaemon(true);
    thread.start();
  }

  /** A line from {@code line}, refreshed until closed. */
  static Progress line(PrintStream out, Supplier<String> line) {
    return new Progress(out, line);
  }

  /** A bar for {@code total} units counted by {@code bar}. */
  static Progress bar(PrintStream out, String what, long total, Bar bar) {
    long start = System.nanoTime();
    return new Progress(out, () -> {
      long n = bar.done();
      double seconds = Math.max((System.nanoTime() - start) / 1e9, 1e-3);
      double rate = n / seconds;
      int filled = total == 0 ? 30 : (int) (30 * n / total);
      String eta = n == 0 || n >= total ? "" : String.format(Locale.ROOT, ", %.0f s left", (total - n) / rate);
      return String.format(Locale.ROOT, "%s [%s%s] %5.1f%% %,d/%,d  %,.0f/s  %.0f s%s",
          what, "#".repeat(filled), ".".repeat(30 - filled), total == 0 ? 100 : 100.0 * n / total, n, total, rate, seconds, eta);
    });
  }

  private synchronized void print(String text) {
    if (TERMINAL) {
      out.print("\r\033[2K" + text);
    } else {
      out.println(text);
    }
    out.flush();
  }

  @Override
  public void close() throws InterruptedException {
    thread.interrupt();
    thread.join();
    if (TERMINAL) {
      out.println();
    }
  }
}
