package io.twinfleet.service;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests for what happens asynchronously, failing with what was awaited. */
public final class Eventually {

  private Eventually() {}

  /** Returns once {@code condition} holds, checking every 50 ms; fails after {@code timeout}. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, "timed out waiting until " + what);
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }
}
