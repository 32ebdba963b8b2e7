package io.twinfleet.service;

import io.twinfleet.persistence.cassandra.ClockOriginStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * The service's notion of time. Every rule takes its time from here, so the whole service can run
 * on an accelerated clock ({@code twinfleet.clock.speed}): simulated time runs {@code speed} times
 * faster than real time from an origin (at real time R it was simulated time S). A first start
 * takes real now as both; later starts resume from the stored origin ({@link #resume}), so simulated
 * time goes on across restarts (also while the service is down). Timers are scheduled in real
 * time, so simulated delays are converted with {@link #realDelay}.
 */
public final class ServiceClock extends Clock {

  private final Clock base;
  private final double speed;
  private final Instant realOrigin;
  private final Instant simulatedOrigin;

  private ServiceClock(Clock base, double speed, Instant realOrigin, Instant simulatedOrigin) {
    if (!(speed >= 1)) {
      throw new IllegalArgumentException("twinfleet.clock.speed must be at least 1, was " + speed);
    }
    this.base = base;
    this.speed = speed;
    this.realOrigin = realOrigin;
    this.simulatedOrigin = simulatedOrigin;
  }

  /** Real time. */
  public static ServiceClock real() {
    Instant now = Clock.systemUTC().instant();
    return new ServiceClock(Clock.systemUTC(), 1, now, now);
  }

  /** Time that runs {@code speed} times faster than {@code base}, starting now. */
  public static ServiceClock accelerated(Clock base, double speed) {
    Instant now = base.instant();
    return new ServiceClock(base, speed, now, now);
  }

  /**
   * The clock at {@code speed} that goes on from a stored one: at the same speed the stored time
   * line itself, so a restart shows exactly the time the service would show had it never stopped;
   * at another speed one that starts where the stored one is now (time never goes back, also when
   * a run at speed 1 follows accelerated ones), anchored at whole milliseconds, which is what
   * Cassandra stores of it. With nothing stored, it starts now at real time.
   */
  public static ServiceClock resume(Clock base, double speed, ClockOriginStore.Origin stored) {
    if (stored == null) {
      return accelerated(base, speed);
    }
    ServiceClock old = new ServiceClock(base, stored.speed(), stored.realOrigin(), stored.simulatedOrigin());
    if (stored.speed() == speed) {
      return old;
    }
    // Re-anchored at an instant stored without loss: a sub-millisecond part cut off by the store
    // would otherwise move the whole time line by up to speed milliseconds at the next start.
    Instant realNow = base.instant().truncatedTo(ChronoUnit.MILLIS);
    return new ServiceClock(base, speed, realNow, old.at(realNow).truncatedTo(ChronoUnit.MILLIS));
  }

  /** This clock's origin, to store. */
  public ClockOriginStore.Origin origin() {
    return new ClockOriginStore.Origin(speed, realOrigin, simulatedOrigin);
  }

  public double speed() {
    return speed;
  }

  /** How much time of this clock passes in {@code real} of real time. */
  public Duration serviceTime(Duration real) {
    return serviceTime(real, speed);
  }

  /** How much time of a clock at {@code speed} passes in {@code real} of real time. */
  public static Duration serviceTime(Duration real, double speed) {
    return Duration.ofNanos((long) Math.min(real.toNanos() * speed, Long.MAX_VALUE));
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
    return at(base.instant());
  }

  private Instant at(Instant real) {
    Duration elapsed = Duration.between(realOrigin, real);
    if (speed == 1) {
      return simulatedOrigin.plus(elapsed);
    }
    return simulatedOrigin.plusNanos((long) (elapsed.toNanos() * speed));
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
