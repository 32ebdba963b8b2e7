package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.FleetProfile;
import com.google.protobuf.util.Durations;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.Uptime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When the referee holds back its verdict on a device (only near a moment its truth flips), and how
 * it judges a device's uptime.
 */
class RefereeTest {

  private static final long T0 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
  private static final long DAY = Duration.ofDays(1).toMillis();
  private static final long TOLERANCE = 30_000;

  private static Referee referee(Fleet fleet) {
    return new Referee(fleet, ServiceTime.fixed(Instant.ofEpochMilli(T0), 1), null, TOLERANCE, new Referee.Deliveries() {
      @Override
      public long longest(int i) {
        return TOLERANCE;
      }

      @Override
      public int late(int i) {
        return 0;
      }
    });
  }

  @Test
  void aDeviceThatKeepsReportingIsSettledAtAnyTime() {
    Fleet f = TestFleets.quietDevice();
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
    Fleet f = TestFleets.quietDevice();
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

  // ---- uptime ----

  /** A device that drops about once a day for about three hours, run for ten days. */
  private static Fleet droppingDeviceAfterTenDays() {
    Duration never = Duration.ofDays(365_000);
    FleetProfile dropping = new FleetProfile(0, 0, Duration.ofHours(1), Duration.ofDays(1), Duration.ofDays(1), Duration.ofHours(3),
        never, Duration.ofHours(1), never, Duration.ofHours(1), never, never);
    Fleet f = Fleet.plan(3, 1, 1, "x-", dropping, 2);
    long first = f.claimed(0, T0);
    while (f.due(0) <= first + 10 * DAY) {
      f.step(0, f.due(0), false);
    }
    return f;
  }

  /** What a service that agrees with the truth says about device 0 at {@code t}, with the given uptime. */
  private static Device view(Fleet f, long t, long countedMillis, long offlineMillis) {
    Device.Builder d = Device.newBuilder()
        .setStage(f.stage(0, t))
        .setOnline(f.online(0, t))
        .setFirmwareVersion(f.firmwareOf(0))
        .setUptimeSinceActivation(Uptime.newBuilder()
            .setCounted(Durations.fromMillis(countedMillis))
            .setOffline(Durations.fromMillis(offlineMillis)));
    if (f.modelOf(0).hasBattery()) {
      d.setBatteryPercent(f.batteryPercent(0));
    }
    return d.build();
  }

  private static List<String> uptimeMismatches(Fleet f, long t, Device d) {
    List<Referee.Mismatch> out = new ArrayList<>();
    referee(f).compare(0, d, t, t, out, new Referee.UptimeSums());
    return out.stream().map(Referee.Mismatch::field).toList();
  }

  @Test
  void offlineTimeMayDifferByTheLongestDeliveryPerSilenceAndNoMore() {
    Fleet f = droppingDeviceAfterTenDays();
    long t = f.lastSent(0) + 1;
    long life = f.lifeMillis(0, t);
    long offline = f.offlineMillis(0, t);
    assertTrue(f.drops(0) > 3 && offline > 0, f.drops(0) + " drops, " + offline + " ms off line");
    long allowed = (f.drops(0) + 1L) * TOLERANCE;

    assertEquals(List.of(), uptimeMismatches(f, t, view(f, t, life, offline)));
    assertEquals(List.of(), uptimeMismatches(f, t, view(f, t, life, offline + allowed)));
    assertEquals(List.of(), uptimeMismatches(f, t, view(f, t, life, offline - allowed)));
    assertEquals(List.of("uptime_since_activation.offline"), uptimeMismatches(f, t, view(f, t, life, offline + allowed + 1)));
    assertEquals(List.of("uptime_since_activation.offline"), uptimeMismatches(f, t, view(f, t, life, Math.max(0, offline - allowed - 1))));
  }

  @Test
  void theLifeCountedMayDifferByOneDeliveryOnly() {
    Fleet f = droppingDeviceAfterTenDays();
    long t = f.lastSent(0) + 1;
    long life = f.lifeMillis(0, t);
    long offline = f.offlineMillis(0, t);
    assertEquals(List.of(), uptimeMismatches(f, t, view(f, t, life + TOLERANCE, offline)));
    assertEquals(List.of("uptime_since_activation.counted"), uptimeMismatches(f, t, view(f, t, life + TOLERANCE + 1, offline)),
        "counted from the claim, say, rather than from activation");
  }

  @Test
  void anActiveDeviceWithoutUptimeOrAnInactiveOneWithIsAMismatch() {
    Fleet f = droppingDeviceAfterTenDays();
    long t = f.lastSent(0) + 1;
    Device withoutUptime = view(f, t, 0, 0).toBuilder().clearUptimeSinceActivation().build();
    assertEquals(List.of("uptime_since_activation"), uptimeMismatches(f, t, withoutUptime));

    Fleet claimedOnly = TestFleets.quietDevice();
    claimedOnly.claimed(0, T0);
    Device d = Device.newBuilder().setStage(claimedOnly.stage(0, T0)).setFirmwareVersion(claimedOnly.initialFirmwareOf(0))
        .setUptimeSinceActivation(Uptime.getDefaultInstance()).build();
    assertEquals(List.of("uptime_since_activation"), uptimeMismatches(claimedOnly, T0, d));
  }

  @Test
  void theFleetsUptimeIsComparedOverTheDevicesChecked() {
    Fleet f = droppingDeviceAfterTenDays();
    long t = f.lastSent(0) + 1;
    Referee.UptimeSums sums = new Referee.UptimeSums();
    referee(f).compare(0, view(f, t, f.lifeMillis(0, t), f.offlineMillis(0, t)), t, t, new ArrayList<>(), sums);
    Referee.FleetUptime u = sums.result();
    assertEquals(1 - (double) f.offlineMillis(0, t) / f.lifeMillis(0, t), u.truth(), 1e-12);
    assertEquals(u.truth(), u.service(), 1e-12);
    assertEquals((f.drops(0) + 2.0) * TOLERANCE / f.lifeMillis(0, t), u.tolerance(), 1e-12);
    assertTrue(u.agrees());
    assertFalse(new Referee.FleetUptime(u.truth() + u.tolerance() * 1.01, u.truth(), u.tolerance()).agrees());
  }
}
