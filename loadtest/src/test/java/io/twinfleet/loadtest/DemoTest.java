package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.FleetProfile;
import org.junit.jupiter.api.Test;

class DemoTest {

  @Test
  void heartbeatsAreStretchedOnlyAsFarAsTheClockNeeds() {
    assertEquals(1, Demo.heartbeatMultiplier(1), "real time: the models' own heartbeats");
    assertEquals(1, Demo.heartbeatMultiplier(60), "a charger's 10 minutes to off line are 10 s at x60");
    assertEquals(2, Demo.heartbeatMultiplier(61));
    assertEquals(12, Demo.heartbeatMultiplier(720));
  }

  @Test
  void everyDeviceOfTheDemoFleetHasAtLeastTheMinimumSilenceInRealTime() {
    for (double speed : new double[] {1, 100, 720, 8640}) {
      Fleet fleet = Fleet.plan(1, 200, 40, "t-", FleetProfile.defaults(), Demo.OFFLINE_AFTER_HEARTBEATS)
          .withHeartbeatMultiplier(Demo.heartbeatMultiplier(speed));
      for (int i = 0; i < fleet.size(); i++) {
        double realMillis = fleet.offlineAfter(i) / speed;
        assertTrue(realMillis >= Demo.MIN_REAL_SILENCE.toMillis(), "device " + i + " at x" + speed + ": " + realMillis + " ms");
      }
    }
  }
}
