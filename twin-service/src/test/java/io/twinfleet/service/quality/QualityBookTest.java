package io.twinfleet.service.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.*;
import io.twinfleet.service.device.Severity;
import io.twinfleet.service.device.Stage;
import io.twinfleet.service.device.DecommissionReason;
import io.twinfleet.service.quality.QualityBook.Figures;
import io.twinfleet.service.quality.QualityBook.Value;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The quality ledger and its sums over a window, against figures worked out by hand. */
class QualityBookTest {

  private static final Instant DAY = Instant.parse("2026-11-20T00:00:00Z");

  private static Instant at(String hhmm) {
    return DAY.plus(Duration.parse("PT" + hhmm.replace(":", "H") + "M"));
  }

  private final Map<String, QualityDevice> devices = new HashMap<>();
  private final Map<String, Long> seqNrs = new HashMap<>();
  private final Map<QualityBook.Key, QualityBook.Hour> hours = new HashMap<>();
  private final Map<QualityBook.Key, QualityBook.Open> open = new HashMap<>();
  private final Map<Value, Long> members = new HashMap<>();

  private void event(String id, DeviceTwin.Event e) {
    long seqNr = seqNrs.merge(id, 1L, Long::sum);
    QualityLedger.Applied a = QualityLedger.apply(devices.get(id), id, seqNr, e);
    devices.put(id, a.device());
    QualityBook.book(a.entries(), hours, open, members);
  }

  private void activated(String id, String firmware, Instant t) {
    event(id, new DeviceRegistered("lock", "SN", Duration.ofMinutes(5), firmware, DAY));
    event(id, new DeviceClaimed("c", "s", "lock", SiteStatus.UNSEEN, DAY));
    event(id, new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, DAY));
    event(id, new CameOnline(t));
    event(id, new DeviceActivated(t));
    event(id, new StageChanged(Stage.ONBOARDING, Stage.DAY_30, t));
  }

  private static long minutes(long millis) {
    return Duration.ofMillis(millis).toMinutes();
  }

  @Test
  void aWindowHoldsEachValuesLifeAndDowntimeExactly() {
    activated("b", "1.0", at("09:00"));
    activated("a", "1.0", at("10:30"));
    event("a", new WentOffline(at("11:15")));
    event("a", new StageChanged(Stage.DAY_30, Stage.DAY_60, at("12:00"))); // while off line: the episode splits
    event("a", new CameOnline(at("12:45")));
    event("a", new FirmwareChanged("1.0", "2.0", at("13:10")));
    event("a", new DeviceDecommissioned("c", DecommissionReason.RETURNED, at("14:20")));
    event("b", new WentOffline(at("14:30"))); // still off line at the end

    Map<Value, Figures> f = QualityBook.figures(at("10:00"), at("15:00"), members, hours, open);
    Figures all = f.get(new Value(QualityDimension.ALL, ""));
    assertEquals(230 + 300, minutes(all.lifeMillis()), "a from 10:30 to 14:20, b all five hours");
    assertEquals(90 + 30, minutes(all.offlineMillis()), "a's closed episode and b's open one");
    assertEquals(45 + 30, minutes(f.get(new Value(QualityDimension.STAGE, "DAY_30")).offlineMillis()));
    assertEquals(90 + 300, minutes(f.get(new Value(QualityDimension.STAGE, "DAY_30")).lifeMillis()));
    assertEquals(45, minutes(f.get(new Value(QualityDimension.STAGE, "DAY_60")).offlineMillis()));
    assertEquals(140, minutes(f.get(new Value(QualityDimension.STAGE, "DAY_60")).lifeMillis()));
    assertEquals(160 + 300, minutes(f.get(new Value(QualityDimension.FIRMWARE, "1.0")).lifeMillis()));
    assertEquals(70, minutes(f.get(new Value(QualityDimension.FIRMWARE, "2.0")).lifeMillis()));
    assertEquals(0, f.get(new Value(QualityDimension.FIRMWARE, "2.0")).offlineMillis());
    assertEquals(1L, members.get(new Value(QualityDimension.ALL, "")), "only b is still active");

    // A window that began before a's activation and an hour in progress.
    Map<Value, Figures> partial = QualityBook.figures(at("14:00"), at("14:40"), members, hours, open);
    assertEquals(20 + 40, minutes(partial.get(new Value(QualityDimension.ALL, "")).lifeMillis()));
    assertEquals(10, minutes(partial.get(new Value(QualityDimension.ALL, "")).offlineMillis()));
    assertThrows(IllegalArgumentException.class, () -> QualityBook.figures(at("14:30"), at("15:00"), members, hours, open));
  }

  @Test
  void eachHourHoldsItsOwnLifeAndDowntimeAndTheHoursAddUpToTheWindow() {
    activated("b", "1.0", at("09:00"));
    activated("a", "1.0", at("10:30"));
    event("a", new WentOffline(at("11:15")));
    event("a", new CameOnline(at("12:45")));
    event("a", new DeviceDecommissioned("c", DecommissionReason.RETURNED, at("14:20")));
    event("b", new WentOffline(at("13:30"))); // still off line at the end, across three hours

    Value fleet = new Value(QualityDimension.ALL, "");
    List<QualityBook.HourFigures> hourly = QualityBook.hourly(fleet, at("10:00"), at("15:40"), members, hours, open);
    assertEquals(List.of(at("10:00"), at("11:00"), at("12:00"), at("13:00"), at("14:00"), at("15:00")),
        hourly.stream().map(QualityBook.HourFigures::hour).toList(), "every hour of the window, oldest first");
    // Life: b all along; a from 10:30 to 14:20. Off line: a 11:15-12:45, b from 13:30 on.
    long[][] expected = {{60 + 30, 0}, {120, 45}, {120, 45}, {120, 30}, {60 + 20, 60}, {40, 40}};
    for (int i = 0; i < expected.length; i++) {
      Figures h = hourly.get(i).figures();
      assertEquals(expected[i][0], minutes(h.lifeMillis()), "life in hour " + i);
      assertEquals(expected[i][1], minutes(h.offlineMillis()), "off line in hour " + i);
    }
    Figures window = QualityBook.figures(at("10:00"), at("15:40"), members, hours, open).get(fleet);
    assertEquals(window.lifeMillis(), hourly.stream().mapToLong(h -> h.figures().lifeMillis()).sum());
    assertEquals(window.offlineMillis(), hourly.stream().mapToLong(h -> h.figures().offlineMillis()).sum());
    assertEquals(0.25, hourly.get(4).figures().uptime(), 1e-9, "60 of 80 minutes off line in the 14:00 hour");

    // The episode that began before the window counts in every hour of a later window.
    List<QualityBook.HourFigures> late = QualityBook.hourly(fleet, at("14:00"), at("15:40"), members, hours, open);
    assertEquals(60, minutes(late.get(0).figures().offlineMillis()));
    assertEquals(40, minutes(late.get(1).figures().offlineMillis()));
    assertThrows(IllegalArgumentException.class, () -> QualityBook.hourly(fleet, at("14:30"), at("15:00"), members, hours, open));
  }

  @Test
  void anEpisodeCountsOnceUnderTheWorstFaultAndTheLedgerIgnoresRepeats() {
    activated("a", "1.0", at("10:00"));
    event("a", new FaultRaised("W-1", Severity.WARNING, at("10:05")));
    event("a", new FaultRaised("C-9", Severity.CRITICAL, at("10:06")));
    event("a", new WentOffline(at("10:10")));
    event("a", new CameOnline(at("10:40")));
    Map<Value, Figures> f = QualityBook.figures(at("10:00"), at("11:00"), members, hours, open);
    assertEquals(30, minutes(f.get(new Value(QualityDimension.FAULT, "C-9")).offlineMillis()));
    assertEquals(0, f.get(new Value(QualityDimension.FAULT, "W-1")).offlineMillis());
    assertEquals(5, minutes(f.get(new Value(QualityDimension.FAULT, QualityDimension.NO_FAULT)).lifeMillis()), "no fault from 10:00 to 10:05");

    QualityDevice before = devices.get("a");
    QualityLedger.Applied again = QualityLedger.apply(before, "a", before.seqNr(), new WentOffline(at("10:50")));
    assertSame(before, again.device());
    assertTrue(again.entries().isEmpty(), "an event delivered again books nothing");
  }
}
