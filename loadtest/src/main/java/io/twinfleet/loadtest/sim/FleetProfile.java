package io.twinfleet.loadtest.sim;

import java.time.Duration;

/**
 * How a simulated fleet behaves, in simulated time. The means are of exponential distributions,
 * so episodes arrive as a Poisson process per device, as independent failures do.
 *
 * @param unclaimedShare devices registered but never claimed by a customer (still on a shelf)
 * @param neverReportsShare claimed devices that never send their first report (stalled onboarding)
 * @param activationDelay mean time from claim to first report (at least ten minutes, or the mean if shorter)
 * @param betweenDrops mean time on line between two drops, healthy firmware
 * @param betweenDropsDefective the same on the defective firmware
 * @param dropLength mean length of an off-line episode
 * @param betweenFaults mean time between faults
 * @param faultLength mean time a fault stays open
 * @param betweenSessions mean idle time of a charger between two charging sessions
 * @param sessionLength mean charging session
 * @param untilUpgrade mean time until a device installs the newest firmware
 * @param lifetime mean time until a device is decommissioned (returned, replaced, churned, broken)
 * @param batteryDrain how many times faster than its model's rate a battery drains (1: as the model says)
 */
public record FleetProfile(
    double unclaimedShare,
    double neverReportsShare,
    Duration activationDelay,
    Duration betweenDrops,
    Duration betweenDropsDefective,
    Duration dropLength,
    Duration betweenFaults,
    Duration faultLength,
    Duration betweenSessions,
    Duration sessionLength,
    Duration untilUpgrade,
    Duration lifetime,
    double batteryDrain) {

  /** Batteries draining at their models' rates. */
  public FleetProfile(double unclaimedShare, double neverReportsShare, Duration activationDelay, Duration betweenDrops,
      Duration betweenDropsDefective, Duration dropLength, Duration betweenFaults, Duration faultLength, Duration betweenSessions,
      Duration sessionLength, Duration untilUpgrade, Duration lifetime) {
    this(unclaimedShare, neverReportsShare, activationDelay, betweenDrops, betweenDropsDefective, dropLength, betweenFaults, faultLength,
        betweenSessions, sessionLength, untilUpgrade, lifetime, 1);
  }

  public static FleetProfile defaults() {
    return new FleetProfile(
        0.04,
        0.03,
        Duration.ofHours(8),
        Duration.ofDays(7),
        Duration.ofHours(8),
        Duration.ofMinutes(90),
        Duration.ofDays(20),
        Duration.ofHours(6),
        Duration.ofHours(3),
        Duration.ofMinutes(90),
        Duration.ofDays(60),
        Duration.ofDays(730));
  }

  /** The same fleet with another mean delay from claim to first report. */
  public FleetProfile withActivationDelay(Duration mean) {
    return new FleetProfile(unclaimedShare, neverReportsShare, mean, betweenDrops, betweenDropsDefective, dropLength,
        betweenFaults, faultLength, betweenSessions, sessionLength, untilUpgrade, lifetime, batteryDrain);
  }

  /** The same fleet with batteries draining {@code factor} times faster than their models' rates. */
  public FleetProfile withBatteryDrain(double factor) {
    return new FleetProfile(unclaimedShare, neverReportsShare, activationDelay, betweenDrops, betweenDropsDefective, dropLength,
        betweenFaults, faultLength, betweenSessions, sessionLength, untilUpgrade, lifetime, factor);
  }
}
