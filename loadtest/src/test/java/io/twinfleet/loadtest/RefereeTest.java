package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.FleetProfile;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When the referee holds back its verdict on a device: only near a moment its truth flips. */
class RefereeTest {

  private static final long T0 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
  private static final long DAY = Duration.ofDays(1).toMillis();
  private static final long TOLERANCE = 30_000;

  /** One device that never drops, faults, upgrades or retires. */
  private static Fleet quietDevice() {
    Duration never = Duration.ofDays(365_000);
    FleetProfile quiet = new FleetProfile(0, 0, Duration.ofHours(1), never, never, Duration.ofHours(1), never,
        Duration.ofHours(1), never, Duration.ofHours(1), never, never);
    return Fleet.plan(1, 1, 1, "x-", quiet, 2);
  }

  private static Referee referee(Fleet fleet) {
    return new Referee(fleet, ServiceTime.fixed(Instant.ofEpochMilli(T0), 1), null, TOLERANCE, i -> TOLERANCE);
  }

  @Test
  void aDeviceThatKeepsReportingIsSettledAtAnyTime() {
    Fleet f = quietDevice();
    long first = f.claimed(0, T0);
    f.step(0, first, false);
    Referee r = referee(f);
    for (long t = first; t < first + DAY; t += 7_000) {
      while (f.due(0) <= t) {
        f.step(0, f.due(0), true);
      }
      assertEquals(0, r.unsettledUntil(0, t), "at " + (t - first) + " ms");
    }
  }

  @Test
  void aSilentDeviceWaitsUntilItsThresholdHasSurelyPassed() {
    Duration never = Duration.ofDays(365_000);
    // drops at once and stays away a long time
    FleetProfile dropping = new FleetProfile(0, 0, Duration.ofHours(1), Duration.ofMillis(1), Duration.ofMillis(1),
        Duration.ofDays(30), never, Duration.ofHours(1), never, Duration.ofHours(1), never, never);
    Fleet f = Fleet.plan(1, 1, 1, "x-", dropping, 2);
    long first = f.claimed(0, T0);
    f.step(0, first, false);
    while (f.state(0) != Fleet.OFFLINE) {
      f.step(0, f.due(0), false);
    }
    long threshold = f.lastSent(0) + f.offlineAfter(0);
    Referee r = referee(f);
    assertEquals(0, r.unsettledUntil(0, threshold - 2 * TOLERANCE), "well before: surely still on line");
    assertEquals(threshold + TOLERANCE, r.unsettledUntil(0, threshold - TOLERANCE / 2));
    assertEquals(threshold + TOLERANCE, r.unsettledUntil(0, threshold + TOLERANCE / 2));
    assertEquals(0, r.unsettledUntil(0, threshold + 2 * TOLERANCE), "well after: surely off line");
  }

  @Test
  void aStageMilestoneIsNotJudgedWithinTheTolerance() {
    Fleet f = quietDevice();
    long first = f.claimed(0, T0);
    f.step(0, first, false);
    long milestone = first + 30 * DAY;
    Referee r = referee(f);
    while (f.due(0) <= milestone + 2 * TOLERANCE) {
      f.step(0, f.due(0), true);
    }
    assertTrue(r.unsettledUntil(0, milestone - TOLERANCE / 2) >= milestone + TOLERANCE);
    assertTrue(r.unsettledUntil(0, milestone + TOLERANCE / 2) >= milestone + TOLERANCE);
    assertEquals(0, r.unsettledUntil(0, milestone + 2 * TOLERANCE));
  }
}
