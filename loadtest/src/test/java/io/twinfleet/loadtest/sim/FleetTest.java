package io.twinfleet.loadtest.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.protocol.v1.Stage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetTest {

  private static final long T0 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
  private static final long MINUTE = 60_000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;

  /** A fleet where nothing happens unless a test asks for it: no drops, faults, sessions, upgrades or retirements. */
  private static FleetProfile quiet() {
    Duration never = Duration.ofDays(365_000);
    return new FleetProfile(0, 0, Duration.ofHours(1), never, never, Duration.ofHours(1), never, Duration.ofHours(1),
        never, Duration.ofHours(1), never, never);
  }

  /** As {@link #quiet}, but devices drop off line about once a day, for about three hours each time. */
  private static FleetProfile droppingDaily() {
    Duration never = Duration.ofDays(365_000);
    return new FleetProfile(0, 0, Duration.ofHours(1), Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(3),
        never, Duration.ofHours(1), never, Duration.ofHours(1), never, never);
  }

  /** Steps device {@code i} at each due time up to {@code until}; returns the steps taken. */
  private static List<Fleet.Step> runUntil(Fleet f, int i, long until) {
    List<Fleet.Step> steps = new ArrayList<>();
    while (f.due(i) <= until) {
      steps.add(f.step(i, f.due(i), false));
    }
    return steps;
  }

  @Test
  void deviceIdsMapBackToTheirNumbers() {
    Fleet f = Fleet.plan(1, 120, 30, "lt-", FleetProfile.defaults(), 2);
    for (int i = 0; i < f.size(); i++) {
      assertEquals(i, f.indexOf(f.deviceId(i)));
    }
    for (String other : new String[] {"lt-d120", "lt-d", "lt-s3", "xx-d3", "lt-d3x", "lt-d-1", "lt-d99999999999", ""}) {
      assertEquals(-1, f.indexOf(other), other);
    }
  }

  @Test
  void layoutIsDeterministicForASeed() {
    Fleet a = Fleet.plan(42, 5_000, 1_000, "x-", FleetProfile.defaults(), 2);
    Fleet b = Fleet.plan(42, 5_000, 1_000, "x-", FleetProfile.defaults(), 2);
    Fleet c = Fleet.plan(43, 5_000, 1_000, "x-", FleetProfile.defaults(), 2);
    boolean differs = false;
    for (int i = 0; i < 5_000; i++) {
      assertEquals(a.modelOf(i), b.modelOf(i));
      assertEquals(a.siteOf(i), b.siteOf(i));
      assertEquals(a.initialFirmwareOf(i), b.initialFirmwareOf(i));
      assertEquals(a.claimPlanned(i), b.claimPlanned(i));
      assertEquals(a.batteryPercent(i), b.batteryPercent(i));
      differs |= a.modelOf(i) != c.modelOf(i) || a.batteryPercent(i) != c.batteryPercent(i);
    }
    assertTrue(differs, "another seed gives another fleet");
    // and the behaviour: the same claim time gives the same first report and the same readings
    for (int i = 0; i < 50; i++) {
      assertEquals(a.claimed(i, T0), b.claimed(i, T0));
      runUntil(a, i, T0 + 3 * DAY);
      runUntil(b, i, T0 + 3 * DAY);
      assertEquals(a.lastSent(i), b.lastSent(i));
      assertEquals(a.batteryPercent(i), b.batteryPercent(i));
      assertEquals(a.firmwareOf(i), b.firmwareOf(i));
    }
  }

  @Test
  void everySiteHasDevicesAndCarParksHoldOnlyChargers() {
    Fleet f = Fleet.plan(7, 10_000, 2_000, "x-", FleetProfile.defaults(), 2);
    int[] perSite = new int[f.siteCount()];
    int parks = 0;
    for (int i = 0; i < f.size(); i++) {
      perSite[f.siteOf(i)]++;
      assertEquals(f.carPark(f.siteOf(i)), f.modelOf(i) == DeviceModel.CHARGER, "device " + i);
      assertEquals(i, i == 0 || f.siteOf(i) != f.siteOf(i - 1) ? f.firstDeviceOf(f.siteOf(i)) : i, "devices of a site are consecutive");
    }
    for (int s = 0; s < f.siteCount(); s++) {
      assertTrue(perSite[s] >= 1, "site " + s + " has no device");
      if (f.carPark(s)) {
        parks++;
      } else {
        assertTrue(perSite[s] <= 4, "a home has at most four devices");
      }
    }
    assertTrue(parks > 0);
    // as many devices as sites: every site gets exactly one
    Fleet tight = Fleet.plan(7, 300, 300, "x-", FleetProfile.defaults(), 2);
    for (int i = 0; i < 300; i++) {
      assertEquals(i, tight.siteOf(i));
    }
    assertThrows(IllegalArgumentException.class, () -> Fleet.plan(1, 10, 11, "x-", FleetProfile.defaults(), 2));
  }

  @Test
  void firstReportActivatesAndStagesFollowTheDaysSinceActivation() {
    Fleet f = Fleet.plan(1, 1, 1, "x-", quiet(), 2);
    assertEquals(Stage.UNCLAIMED, f.stage(0, T0));
    long first = f.claimed(0, T0);
    assertTrue(first >= T0 + 10 * MINUTE, "the first report comes after a delay of at least ten minutes");
    assertEquals(Stage.ONBOARDING, f.stage(0, first - 1));
    assertEquals(Fleet.Step.REPORT, f.step(0, first, false));
    assertEquals(first, f.activatedAt(0));
    assertEquals(Stage.DAY_30, f.stage(0, first + 30 * DAY - 1));
    assertEquals(Stage.DAY_60, f.stage(0, first + 30 * DAY));
    assertEquals(Stage.DAY_90, f.stage(0, first + 60 * DAY));
    assertEquals(Stage.MATURE, f.stage(0, first + 90 * DAY));
    assertEquals(first + 30 * DAY, f.nextStageBoundary(0, first + DAY));
  }

  @Test
  void onlineUntilTheThresholdAfterTheLastReport() {
    Fleet f = Fleet.plan(1, 1, 1, "x-", quiet(), 2);
    long first = f.claimed(0, T0);
    f.step(0, first, false);
    long heartbeat = f.modelOf(0).heartbeat().toMillis();
    assertEquals(first + heartbeat, f.due(0));
    assertEquals(2 * heartbeat, f.offlineAfter(0));
    assertTrue(f.online(0, first + 2 * heartbeat - 1));
    assertFalse(f.online(0, first + 2 * heartbeat));
    runUntil(f, 0, first + DAY);
    assertTrue(f.online(0, first + DAY), "a device that keeps reporting stays on line");
    assertEquals(1.0, f.fleetUptime(first + DAY), 1e-12);
  }

  @Test
  void offlineTimeCountsFromTheThresholdUntilTheDeviceIsBack() {
    FleetProfile dropping = droppingDaily();
    Fleet f = Fleet.plan(3, 1, 1, "x-", dropping, 2);
    long first = f.claimed(0, T0);
    long expectedOffline = 0;
    long lastReport = 0;
    long end = first + 60 * DAY;
    int drops = 0;
    int episodes = 0;
    while (f.due(0) <= end) {
      long t = f.due(0);
      byte before = f.state(0);
      Fleet.Step step = f.step(0, t, false);
      if (step == Fleet.Step.REPORT) {
        if (before == Fleet.OFFLINE) {
          long offline = t - (lastReport + f.offlineAfter(0));
          if (offline > 0) {
            expectedOffline += offline;
            episodes++;
          }
          drops++;
        }
        lastReport = t;
      }
    }
    assertTrue(drops > 20, "it dropped " + drops + " times");
    assertTrue(episodes < drops, "drops shorter than the threshold are no offline episode: " + episodes + " of " + drops);
    assertEquals(drops, f.drops(0));
    long life = end - first;
    long openEpisode = f.state(0) == Fleet.OFFLINE ? Math.max(0, end - (lastReport + f.offlineAfter(0))) : 0;
    assertEquals(life, f.lifeMillis(0, end));
    assertEquals(expectedOffline + openEpisode, f.offlineMillis(0, end));
    assertEquals(1 - (double) (expectedOffline + openEpisode) / life, f.fleetUptime(end), 1e-9);
    assertTrue(f.fleetUptime(end) < 0.95 && f.fleetUptime(end) > 0.5, "uptime " + f.fleetUptime(end));
  }

  @Test
  void aOneDeviceSiteIsDownExactlyWhenItsDeviceIsOffLineMonthByMonth() {
    FleetProfile dropping = droppingDaily();
    Fleet f = Fleet.plan(3, 1, 1, "x-", dropping, 2);
    long first = f.claimed(0, T0);
    long end = first + 70 * DAY; // January, February, part of March
    runUntil(f, 0, end);
    long served = 0;
    long down = 0;
    int changes = 0;
    for (java.time.YearMonth m = java.time.YearMonth.of(2026, 1); !m.isAfter(java.time.YearMonth.of(2026, 3)); m = m.plusMonths(1)) {
      Fleet.SiteMonth month = f.siteMonth(0, m, end);
      long monthLength = m.lengthOfMonth() * DAY;
      assertTrue(month.servedMillis() <= monthLength);
      served += month.servedMillis();
      down += month.downMillis();
      changes += month.changes();
    }
    assertEquals(31 * DAY - (first - T0), f.siteMonth(0, java.time.YearMonth.of(2026, 1), end).servedMillis(), "in service from activation");
    assertEquals(28 * DAY, f.siteMonth(0, java.time.YearMonth.of(2026, 2), end).servedMillis());
    assertEquals(f.lifeMillis(0, end), served);
    assertEquals(f.offlineMillis(0, end), down, "a home with one device is down whenever it is off line");
    assertTrue(changes >= 2 * 20, "every outage is two changes: " + changes);
    assertEquals(new Fleet.SiteMonth(0, 0, 0), f.siteMonth(0, java.time.YearMonth.of(2025, 12), end), "before the run");
  }

  @Test
  void batteryLowIsOneEpisodePerCrossingWithHysteresis() {
    Fleet f = Fleet.plan(5, 200, 200, "x-", quiet(), 2);
    int checked = 0;
    for (int i = 0; i < f.size(); i++) {
      if (!f.modelOf(i).hasBattery() || f.modelOf(i).drainPercentPerDay() < 2) {
        continue;
      }
      long first = f.claimed(i, T0);
      int episodes = 0;
      boolean low = false;
      int previous = -1;
      while (f.due(i) <= first + 200 * DAY) {
        if (f.step(i, f.due(i), false) == Fleet.Step.REPORT) {
          int b = f.batteryPercent(i);
          assertTrue(previous < 0 || b <= previous || b == 100, "drains, or is recharged to 100");
          if (!low && b < 20) {
            low = true;
            episodes++;
          } else if (low && b > 30) {
            low = false;
          }
          previous = b;
        }
      }
      assertEquals(episodes, f.batteryLowEpisodes(i), "device " + i);
      assertTrue(episodes >= 2, "a camera drains below 20% several times in 200 days");
      checked++;
    }
    assertTrue(checked > 0);
  }

  @Test
  void defectiveFirmwareDropsFarMoreOften() {
    Fleet f = Fleet.plan(11, 4_000, 800, "x-", FleetProfile.defaults(), 2);
    long[] drops = new long[2];
    long[] devices = new long[2];
    for (int i = 0; i < f.size(); i++) {
      if (f.modelOf(i) != DeviceModel.CHARGER || !f.claimPlanned(i)) {
        continue;
      }
      long first = f.claimed(i, T0);
      if (first == Fleet.NEVER) {
        continue;
      }
      int k = f.defective(i) ? 1 : 0;
      if (f.step(i, first, false) != Fleet.Step.REPORT || f.defective(i) != (k == 1)) {
        continue;
      }
      devices[k]++;
      while (f.due(i) <= first + 5 * DAY) {
        byte before = f.state(i);
        f.step(i, f.due(i), false);
        if (before == Fleet.ONLINE && f.state(i) == Fleet.OFFLINE) {
          drops[k]++;
        }
      }
    }
    double healthy = (double) drops[0] / devices[0];
    double defective = (double) drops[1] / devices[1];
    assertTrue(defective > 5 * healthy, "defective " + defective + " drops per device, healthy " + healthy);
  }

  @Test
  void frozenDevicesKeepReportingTheSameValues() {
    Fleet f = Fleet.plan(9, 100, 20, "x-", FleetProfile.defaults(), 2);
    long start = T0;
    for (int i = 0; i < f.size(); i++) {
      if (f.claimPlanned(i)) {
        f.claimed(i, start);
      }
    }
    long freezeAt = start + 10 * DAY;
    for (int i = 0; i < f.size(); i++) {
      runUntil(f, i, freezeAt);
    }
    for (int i = 0; i < f.size(); i++) {
      byte state = f.state(i);
      int battery = f.batteryPercent(i);
      String firmware = f.firmwareOf(i);
      DeviceModel.Fault fault = f.faultOf(i);
      boolean inUse = f.inUse(i);
      while (f.due(i) <= freezeAt + 5 * DAY) {
        f.step(i, f.due(i), true);
      }
      assertEquals(state, f.state(i), "device " + i);
      assertEquals(battery, f.batteryPercent(i));
      assertEquals(firmware, f.firmwareOf(i));
      assertEquals(fault, f.faultOf(i));
      assertEquals(inUse, f.inUse(i));
      if (state == Fleet.ONLINE) {
        assertTrue(f.online(i, freezeAt + 5 * DAY), "an on-line device keeps reporting while frozen");
      }
    }
  }

  @Test
  void retirementAsksForDecommissioningAndEndsTheJourney() {
    Duration never = Duration.ofDays(365_000);
    FleetProfile shortLived = new FleetProfile(0, 0, Duration.ofHours(1), never, never, Duration.ofHours(1), never, Duration.ofHours(1),
        never, Duration.ofHours(1), never, Duration.ofDays(2));
    Fleet f = Fleet.plan(2, 1, 1, "x-", shortLived, 2);
    long first = f.claimed(0, T0);
    List<Fleet.Step> steps = runUntil(f, 0, first + 100 * DAY);
    assertEquals(Fleet.Step.RETIRE, steps.get(steps.size() - 1));
    assertEquals(Fleet.NEVER, f.due(0), "a retiring device reports no more");
    long at = f.lastSent(0) + HOUR;
    f.decommissioned(0, at - 40, at);
    assertEquals(40, f.decommissionLatency(0));
    assertEquals(Stage.END_OF_LIFE, f.stage(0, at));
    assertFalse(f.online(0, at));
  }

  @Test
  void summaryCountsWhatTheTruthSays() {
    Fleet f = Fleet.plan(4, 2_000, 400, "x-", FleetProfile.defaults(), 2);
    for (int i = 0; i < f.size(); i++) {
      if (f.claimPlanned(i)) {
        f.claimed(i, T0);
      }
    }
    long t = T0 + 3 * DAY;
    for (int i = 0; i < f.size(); i++) {
      runUntil(f, i, t);
    }
    FleetSummary s = FleetSummary.of(f, t);
    int stages = 0;
    for (int c : s.stageCounts()) {
      stages += c;
    }
    assertEquals(f.size(), stages, "every device is in exactly one stage");
    int online = 0;
    for (int i = 0; i < f.size(); i++) {
      online += f.online(i, t) ? 1 : 0;
    }
    assertEquals(online, s.online());
    assertTrue(s.active() > 0 && s.online() <= s.active());
    assertTrue(s.stage(Stage.UNCLAIMED) > 0 && s.stage(Stage.DAY_30) > 0);
    assertNotEquals(0, s.carParks());
  }

  @Test
  void aHeartbeatDivisorKeepsWholeSecondsAndTheServiceMinimum() {
    Fleet f = Fleet.plan(1, 2_000, 400, "x-", FleetProfile.defaults(), 2).withHeartbeatDivisor(40);
    for (int i = 0; i < f.size(); i++) {
      long expected = Math.max(10, f.modelOf(i).heartbeat().toSeconds() / 40) * 1000;
      assertEquals(expected, f.heartbeatMillis(i));
      assertEquals(2 * expected, f.offlineAfter(i));
    }
    assertEquals(10_000, Fleet.plan(1, 10, 1, "x-", FleetProfile.defaults(), 2).withHeartbeatDivisor(1_000).heartbeatMillis(0));
    assertThrows(IllegalArgumentException.class, () -> f.withHeartbeatDivisor(0));
  }
}
