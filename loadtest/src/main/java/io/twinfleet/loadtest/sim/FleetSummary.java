package io.twinfleet.loadtest.sim;

import io.twinfleet.protocol.v1.Severity;
import io.twinfleet.protocol.v1.Stage;
import java.time.Duration;

/**
 * The fleet at one moment, from the ground truth: what the demo shows and the referee's figures
 * are compared with.
 *
 * @param stageCounts devices per stage, indexed by {@link Stage#getNumber()}
 * @param offlineOverAnHour active devices off line for more than an hour (an {@code OFFLINE} alert)
 * @param onboardingStalled claimed devices without a first report 48 hours after the claim
 */
public record FleetSummary(
    long at,
    int devices,
    int claimed,
    int active,
    int online,
    int decommissioned,
    int[] stageCounts,
    int sites,
    int sitesAvailable,
    int carParks,
    int carParksAvailable,
    int batteryLow,
    int offlineOverAnHour,
    int criticalFaults,
    int onboardingStalled,
    double fleetUptime) {

  private static final long HOUR = Duration.ofHours(1).toMillis();
  private static final long STALLED_AFTER = Duration.ofHours(48).toMillis();

  public static FleetSummary of(Fleet fleet, long t) {
    int claimed = 0, active = 0, online = 0, decommissioned = 0, batteryLow = 0, offlineLong = 0, critical = 0, stalled = 0;
    int[] stages = new int[Stage.END_OF_LIFE.getNumber() + 1];
    for (int i = 0; i < fleet.size(); i++) {
      byte s = fleet.state(i);
      stages[fleet.stage(i, t).getNumber()]++;
      if (s != Fleet.UNCLAIMED && s != Fleet.CLAIMING) {
        claimed++;
      }
      if (s == Fleet.DECOMMISSIONED) {
        decommissioned++;
        continue;
      }
      if (s == Fleet.AWAITING_FIRST_REPORT && t - fleet.claimedAt(i) > STALLED_AFTER) {
        stalled++;
      }
      if (s != Fleet.ONLINE && s != Fleet.OFFLINE && s != Fleet.RETIRING) {
        continue;
      }
      active++;
      if (fleet.online(i, t)) {
        online++;
      } else if (t - (fleet.lastSent(i) + fleet.offlineAfter(i)) > HOUR) {
        offlineLong++;
      }
      if (fleet.batteryLow(i)) {
        batteryLow++;
      }
      DeviceModel.Fault f = fleet.faultOf(i);
      if (f != null && f.severity() == Severity.CRITICAL) {
        critical++;
      }
    }
    int available = 0, parks = 0, parksAvailable = 0;
    for (int site = 0; site < fleet.siteCount(); site++) {
      boolean up = fleet.siteAvailable(site, t);
      if (up) {
        available++;
      }
      if (fleet.carPark(site)) {
        parks++;
        if (up) {
          parksAvailable++;
        }
      }
    }
    return new FleetSummary(t, fleet.size(), claimed, active, online, decommissioned, stages, fleet.siteCount(), available,
        parks, parksAvailable, batteryLow, offlineLong, critical, stalled, fleet.fleetUptime(t));
  }

  public int stage(Stage stage) {
    return stageCounts[stage.getNumber()];
  }
}
