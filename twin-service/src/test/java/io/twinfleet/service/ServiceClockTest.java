package io.twinfleet.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.twinfleet.persistence.cassandra.ClockOriginStore.Origin;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Accelerated time, and how it goes on across restarts. */
class ServiceClockTest {

  private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");

  @Test
  void acceleratedTimeRunsSpeedTimesFasterFromNow() {
    MutableClock real = new MutableClock(T0);
    ServiceClock clock = ServiceClock.accelerated(real, 720);
    real.advance(Duration.ofMinutes(2));
    assertEquals(T0.plus(Duration.ofDays(1)), clock.instant());
    assertEquals(Duration.ofSeconds(5), clock.realDelay(Duration.ofHours(1)));
    assertEquals(Duration.ofHours(1), clock.serviceTime(Duration.ofSeconds(5)));
  }

  @Test
  void aRestartAtTheSameSpeedGoesOnAsIfTheServiceNeverStopped() {
    MutableClock real = new MutableClock(T0);
    Origin stored = ServiceClock.accelerated(real, 720).origin();
    real.advance(Duration.ofMinutes(4)); // down for a while
    ServiceClock resumed = ServiceClock.resume(real, 720, stored);
    assertEquals(T0.plus(Duration.ofDays(2)), resumed.instant(), "simulated time went on meanwhile");
  }

  @Test
  void aRestartAtTheSameSpeedKeepsTheStoredOriginSoNothingMovesTheTimeLine() {
    MutableClock real = new MutableClock(T0.plusNanos(123_456_789)); // a sub-millisecond part Cassandra would not keep
    Origin stored = ServiceClock.accelerated(real, 1440).origin();
    real.advance(Duration.ofSeconds(7));
    Instant before = ServiceClock.resume(real, 1440, stored).instant();
    assertEquals(stored, ServiceClock.resume(real, 1440, stored).origin(), "nothing new to store");
    assertEquals(before, ServiceClock.resume(real, 1440, ServiceClock.resume(real, 1440, stored).origin()).instant());
  }

  @Test
  void aNewSpeedIsAnchoredAtWholeMillisecondsSoWhatIsStoredIsTheClockThatRuns() {
    MutableClock real = new MutableClock(T0);
    Origin stored = ServiceClock.accelerated(real, 720).origin();
    real.advance(Duration.ofNanos(60_000_654_321L));
    Origin faster = ServiceClock.resume(real, 1440, stored).origin();
    assertEquals(faster.realOrigin().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), faster.realOrigin());
    assertEquals(faster.simulatedOrigin().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), faster.simulatedOrigin());
    assertEquals(T0.plus(Duration.ofHours(12)), faster.simulatedOrigin(), "where the old clock was, to the millisecond");
  }

  @Test
  void aRestartAtAnotherSpeedStartsWhereTheOldClockIsNow() {
    MutableClock real = new MutableClock(T0);
    Origin stored = ServiceClock.accelerated(real, 720).origin();
    real.advance(Duration.ofMinutes(2));
    ServiceClock faster = ServiceClock.resume(real, 1440, stored);
    assertEquals(T0.plus(Duration.ofDays(1)), faster.instant(), "no jump back, no jump ahead");
    real.advance(Duration.ofMinutes(1));
    assertEquals(T0.plus(Duration.ofDays(2)), faster.instant());
  }

  @Test
  void realTimeAfterAnAcceleratedRunGoesOnFromTheSimulatedTimeNotBack() {
    MutableClock real = new MutableClock(T0);
    Origin stored = ServiceClock.accelerated(real, 720).origin();
    real.advance(Duration.ofMinutes(2));
    ServiceClock slow = ServiceClock.resume(real, 1, stored);
    assertEquals(T0.plus(Duration.ofDays(1)), slow.instant());
    real.advance(Duration.ofMinutes(1));
    assertEquals(T0.plus(Duration.ofDays(1)).plus(Duration.ofMinutes(1)), slow.instant());
  }

  @Test
  void withNothingStoredItStartsNow() {
    MutableClock real = new MutableClock(T0);
    assertEquals(T0, ServiceClock.resume(real, 720, null).instant());
  }
}
