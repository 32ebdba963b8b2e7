package io.twinfleet.service.site;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.service.device.DeviceTwin.SiteStatus;
import io.twinfleet.service.quality.Sla;
import io.twinfleet.service.quality.Uptime.Measure;
import io.twinfleet.service.quality.Uptime.Span;
import io.twinfleet.service.site.DeviceChange.Kind;
import io.twinfleet.service.site.SiteState.Counts;
import io.twinfleet.service.site.SiteState.Maintenance;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import org.junit.jupiter.api.Test;

class SiteStateTest {

  private static final Instant T0 = Instant.parse("2026-11-02T00:00:00Z");
  private static final Duration WINDOW = Duration.ofMinutes(15);

  private static Instant at(int minutes) {
    return T0.plus(Duration.ofMinutes(minutes));
  }

  private static DeviceChange change(String device, long seqNr, Kind kind, int minutes) {
    return new DeviceChange(device, seqNr, kind, null, null, at(minutes));
  }

  private static DeviceChange fault(String device, long seqNr, Kind kind, String code, int minutes) {
    return new DeviceChange(device, seqNr, kind, null, code, at(minutes));
  }

  private static SiteState apply(SiteState s, DeviceChange... changes) {
    for (DeviceChange c : changes) {
      assertTrue(s.isNew(c), "not new: " + c);
      s = s.applied(c, WINDOW);
    }
    return s;
  }

  /** Two chargers claimed before they reported, then activated and online at minute 0. */
  private static SiteState twoChargers() {
    SiteState s = apply(SiteState.EMPTY,
        DeviceChange.joined("c1", 2, SiteStatus.UNSEEN, at(-10)),
        DeviceChange.joined("c2", 2, SiteStatus.UNSEEN, at(-10)));
    assertEquals(new Counts(2, 0, 0, 0, 0), s.counts());
    assertFalse(s.counts().inService(), "claimed, not activated: not in service");
    return apply(s,
        change("c1", 4, Kind.ONLINE, 0), change("c1", 5, Kind.ACTIVATED, 0),
        change("c2", 4, Kind.ONLINE, 0), change("c2", 5, Kind.ACTIVATED, 0));
  }

  @Test
  void aCarParkIsAvailableWhileOneChargerWorksAndIsFree() {
    SiteState s = twoChargers();
    assertEquals(new Counts(2, 2, 2, 2, 0), s.counts());
    assertTrue(s.counts().available());

    s = apply(s, change("c1", 6, Kind.USAGE_STARTED, 10));
    assertTrue(s.counts().available(), "c2 is free");
    s = apply(s, change("c2", 6, Kind.OFFLINE, 20));
    assertFalse(s.counts().available(), "c1 in use, c2 offline");
    assertEquals(new Counts(2, 2, 1, 0, 1), s.counts());
    assertEquals(at(20), s.stateSince());
    s = apply(s, change("c1", 7, Kind.USAGE_ENDED, 50));
    assertTrue(s.counts().available());
    assertEquals(at(50), s.stateSince());

    Measure lastHour = s.availability(Duration.ofHours(1), at(60));
    assertEquals(Duration.ofMinutes(60), lastHour.counted());
    assertEquals(Duration.ofMinutes(30), lastHour.offline());
    assertEquals(0.5, lastHour.ratio(), 1e-9);
  }

  @Test
  void aCriticalFaultStopsADeviceWorkingUntilClearedOrDowngraded() {
    SiteState s = apply(twoChargers(),
        fault("c1", 6, Kind.CRITICAL_FAULT, "E1", 5),
        fault("c2", 6, Kind.CRITICAL_FAULT, "E9", 10),
        fault("c2", 7, Kind.CRITICAL_FAULT, "E8", 11));
    assertEquals(new Counts(2, 2, 0, 0, 0), s.counts());
    s = apply(s, fault("c2", 8, Kind.FAULT_NOT_CRITICAL, "E9", 20));
    assertEquals(0, s.counts().working(), "E8 is still open");
    s = apply(s, fault("c1", 7, Kind.FAULT_NOT_CRITICAL, "E1", 30));
    assertEquals(new Counts(2, 2, 1, 1, 0), s.counts());
    assertEquals(Duration.ofMinutes(20), s.availability(Duration.ofHours(1), at(30)).offline());
  }

  @Test
  void aChangeDeliveredAgainOrOutOfTurnIsNotNew() {
    SiteState s = twoChargers();
    assertFalse(s.isNew(change("c1", 5, Kind.ACTIVATED, 0)), "the same change again");
    assertFalse(s.isNew(change("c1", 3, Kind.OFFLINE, 0)), "an older change");
    assertFalse(s.isNew(change("x9", 7, Kind.ONLINE, 0)), "a device that never joined");
    s = apply(s, DeviceChange.left("c1", 8, at(5)));
    assertEquals(1, s.counts().devices());
    assertFalse(s.isNew(change("c1", 9, Kind.ONLINE, 6)), "a device that left: its events go to its new site");
    assertTrue(s.isNew(DeviceChange.joined("c1", 12, new SiteStatus(true, true, false, List.of()), at(7))), "it may come back");
  }

  @Test
  void aDeviceMovedInBringsItsStatus() {
    SiteState s = apply(SiteState.EMPTY, DeviceChange.joined("d", 40, new SiteStatus(true, true, true, List.of("E5")), at(0)));
    assertEquals(new Counts(1, 1, 0, 0, 1), s.counts());
    s = apply(s, fault("d", 41, Kind.FAULT_NOT_CRITICAL, "E5", 1));
    assertEquals(new Counts(1, 1, 1, 0, 1), s.counts());
  }

  @Test
  void aRetiredDeviceNoLongerCountsAndASiteWithoutActiveDevicesIsNotInService() {
    SiteState s = apply(twoChargers(), change("c1", 6, Kind.RETIRED, 10), change("c2", 6, Kind.RETIRED, 30));
    assertEquals(new Counts(0, 0, 0, 0, 0), s.counts());
    assertFalse(s.counts().inService());
    assertEquals(at(30), s.stateSince());
    Measure hour = s.availability(Duration.ofHours(1), at(45));
    assertEquals(Duration.ofMinutes(30), hour.counted(), "only the time in service counts");
    assertEquals(Duration.ZERO, hour.offline());
    assertNull(s.availability(Duration.ofMinutes(10), at(45)), "not in service at all in the window");
  }

  @Test
  void aChangeThatArrivesLateWithinTheWindowCountsFromItsOwnTime() {
    SiteState s = apply(twoChargers(), change("c1", 6, Kind.OFFLINE, 30), change("c2", 6, Kind.OFFLINE, 20));
    // c2's drop arrived after c1's but happened 10 minutes before it: the site was down from minute 30
    assertEquals(at(30), s.stateSince());
    s = apply(s, change("c1", 7, Kind.ONLINE, 40), change("c2", 7, Kind.ONLINE, 35));
    assertEquals(at(35), s.stateSince(), "available again from c2's return, which arrived last");
    assertEquals(Duration.ofMinutes(5), s.availability(Duration.ofHours(1), at(60)).offline());

    // the same changes in the order they happened give the same site
    SiteState inOrder = apply(twoChargers(), change("c2", 6, Kind.OFFLINE, 20), change("c1", 6, Kind.OFFLINE, 30),
        change("c2", 7, Kind.ONLINE, 35), change("c1", 7, Kind.ONLINE, 40));
    assertEquals(inOrder.counts(), s.counts());
    assertArrayEquals(inOrder.down(), s.down());
    assertArrayEquals(inOrder.served(), s.served());
  }

  @Test
  void aLateArrivalGoesAfterItsOwnDevicesEarlierChanges() {
    // c1's clock stamped its return a minute before its drop: the site applies them in the device's order
    SiteState s = apply(twoChargers(), change("c2", 6, Kind.OFFLINE, 5), change("c1", 6, Kind.OFFLINE, 30),
        change("c1", 7, Kind.ONLINE, 29));
    assertEquals(new Counts(2, 2, 1, 1, 0), s.counts());
    assertEquals(Duration.ZERO, s.availability(Duration.ofHours(1), at(60)).offline(), "down at its drop and up again at once");
  }

  @Test
  void aChangeLaterThanTheWindowCountsFromTheSettledStatesLastChange() {
    SiteState s = apply(twoChargers(), change("c1", 6, Kind.OFFLINE, 10), change("c1", 7, Kind.ONLINE, 30),
        change("c1", 8, Kind.OFFLINE, 35));
    for (int i = 0; i < SiteState.SETTLE_BATCH; i++) { // sessions that change nothing while c1 is off line
      s = apply(s, change("c1", 9 + i, i % 2 == 0 ? Kind.USAGE_STARTED : Kind.USAGE_ENDED, 36 + i / 2));
    }
    s = apply(s, change("c1", 9 + SiteState.SETTLE_BATCH, Kind.ONLINE, 60));
    assertEquals(1, s.pending().size(), "changes more than the window before minute 60 settled: " + s);
    // c2 was off line from minute 20 on; its drop arrives now, beyond the window: it counts from minute 43,
    // the settled changes' last, so the site's outages from 20 to 30 and 35 to 43 are lost, 43 to 60 kept
    s = apply(s, change("c2", 6, Kind.OFFLINE, 20));
    assertEquals(Duration.ofMinutes(17), s.availability(Duration.ofHours(2), at(60)).offline());
    assertEquals(new Counts(2, 2, 1, 1, 0), s.counts());
  }

  @Test
  void atMostMaxPendingChangesWaitWhateverTheWindow() {
    SiteState s = twoChargers();
    for (int i = 0; i < SiteState.MAX_PENDING + 10; i++) {
      s = s.applied(change("c1", 6 + i, i % 2 == 0 ? Kind.USAGE_STARTED : Kind.USAGE_ENDED, i), Duration.ofDays(365));
    }
    assertTrue(s.pending().size() <= SiteState.MAX_PENDING && s.pending().size() > SiteState.MAX_PENDING - SiteState.SETTLE_BATCH,
        "pending: " + s.pending().size());
    assertEquals(new Counts(2, 2, 2, 2, 0), s.counts());
  }

  @Test
  void theMonthlySlaLeavesOutMaintenanceAndCountsTheOngoingOutage() {
    SiteState s = apply(twoChargers(), change("c1", 6, Kind.OFFLINE, 60), change("c2", 6, Kind.OFFLINE, 60));
    s = s.withMaintenance(new Maintenance("w1", at(60), at(90), "firmware rollout"), at(60)).withTarget(0.5);
    Instant now = at(180);
    Sla.Result sla = s.sla(YearMonth.of(2026, 11), now, 0.99);
    assertEquals(Duration.ofMinutes(150), sla.counted(), "3 h in service minus the 30 min window");
    assertEquals(Duration.ofMinutes(30), sla.maintenance());
    assertEquals(List.of(new Span(at(90), now)), sla.downtimes());
    assertEquals(0.4, sla.availability(), 1e-9);
    assertEquals(0.5, sla.target());
    assertFalse(sla.met());
    assertTrue(s.sla(YearMonth.of(2026, 10), now, 0.99).met(), "October: nothing in service, no promise broken");
  }

  @Test
  void endedSpansOlderThanTheKeptHistoryAreDropped() {
    SiteState s = apply(twoChargers(), change("c1", 6, Kind.OFFLINE, 0), change("c2", 6, Kind.OFFLINE, 0), change("c2", 7, Kind.ONLINE, 10));
    assertEquals(2, s.down().length);
    Instant muchLater = at(10).plus(SiteState.KEPT).plus(Duration.ofDays(1));
    s = apply(s, new DeviceChange("c2", 8, Kind.OFFLINE, null, null, muchLater), new DeviceChange("c2", 9, Kind.ONLINE, null, null, muchLater.plusSeconds(60)));
    assertEquals(2, s.down().length, "only the new outage is kept");
    assertEquals(muchLater.toEpochMilli(), s.down()[0]);
  }
}
