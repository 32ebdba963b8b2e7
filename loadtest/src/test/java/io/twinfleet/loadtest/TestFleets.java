package io.twinfleet.loadtest;

import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.FleetProfile;
import java.time.Duration;

/** Small fleets for the referees' tests. */
final class TestFleets {

  private TestFleets() {}

  /** One device, not claimed yet, that never drops, faults, upgrades or retires. */
  static Fleet quietDevice() {
    Duration never = Duration.ofDays(365_000);
    FleetProfile quiet = new FleetProfile(0, 0, Duration.ofHours(1), never, never, Duration.ofHours(1), never,
        Duration.ofHours(1), never, Duration.ofHours(1), never, never);
    return Fleet.plan(1, 1, 1, "x-", quiet, 2);
  }
}
