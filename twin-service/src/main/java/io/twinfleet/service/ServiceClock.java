package io.twinfleet.service;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The service's notion of time. Every rule takes its time from here, so the whole service can run
 * on an accelerated clock ({@code twinfleet.clock.speed}): simulated time starts at the real start
 * time and runs {@code speed} times faster. Timers are scheduled in real time, so simulated delays
 * are converted with {@link #realDelay}.
 */
public final class ServiceClock extends Clock {

  private final Clock base;
  private final double speed;
  private final Instant realOrigin;

  private ServiceClock(Clock base, double speed) {
    if (!(speed >= 1)) {
      throw new IllegalArgumentException("twinfleet.clock.speed must be at least 1, was " + speed);
    }
    this.base = base;
    this.speed = speed;
    this.realOrigin = base.instant();
  }

  /** Real time. */
  public static ServiceClock real() {
    return new ServiceClock(Clock.systemUTC(), 1);
  }

  /** Time that runs {@code speed} times faster than {@code base}, starting now. */
  public static ServiceClock accelerated(Clock base, double speed) {
    return new ServiceClock(base, speed);
  }

  public double speed() {
    return speed;
  }

  /** How long to wait in real time for {@code simulated} to pass on this clock (at least 1 ms). */
  public Duration realDelay(Duration simulated) {
    if (simulated.isNegative() || simulated.isZero()) {
      return Duration.ofMillis(1);
    }
    long nanos = (long) (simulated.toNanos() / speed);
    return Duration.ofNanos(Math.max(nanos, 1_000_000));
  }

  @Override
  public Instant instant() {
    Instant real = base.instant();
    if (speed == 1) {
      return real;
    }
    long elapsedNanos = Duration.between(realOrigin, real).toNanos();
    return realOrigin.plusNanos((long) (elapsedNanos * speed));
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("the service clock is always UTC");
  }
}
