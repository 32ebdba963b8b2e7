package io.twinfleet.loadtest;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * Real time that can be held still: the restart check runs a service node on it and holds it once
 * the fleet has stopped, so that every view read before the restart and after it is computed at
 * the same instant, and a difference can only be state that did not survive.
 */
final class HeldClock extends Clock {

  private volatile Instant held;

  /** Stops time now, for good; returns the instant it stays at. */
  Instant hold() {
    Instant now = Clock.systemUTC().instant();
    held = now;
    return now;
  }

  @Override
  public Instant instant() {
    Instant h = held;
    return h != null ? h : Clock.systemUTC().instant();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("always UTC");
  }
}
