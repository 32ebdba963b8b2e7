package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.service.device.BatteryTrend.Outlook;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The battery trend behind BATTERY_FORECAST: steps down, the line through them, charges and stalls. */
class BatteryTrendTest {

  private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
  private static final Duration HORIZON = Duration.ofDays(14);
  private static final Duration MIN_SPAN = Duration.ofHours(12);

  @Test
  void theLineThroughStepsDownSaysWhenTheBatteryIsEmpty() {
    BatteryTrend trend = new BatteryTrend(8);
    // one point every 6 hours from 40%: 4 points a day, empty 10 days after the first step
    for (int k = 0; k < 5; k++) {
      trend.record(40 - k, T0.plus(Duration.ofHours(6L * k)));
    }
    assertEquals(T0.plus(Duration.ofDays(10)), trend.emptyAt());
    assertEquals(Outlook.EMPTY_SOON, trend.outlook(T0.plus(Duration.ofDays(1)), HORIZON, MIN_SPAN));
  }

  @Test
  void theSameLevelAndSmallRisesAddNothingAndAChargeStartsAgain() {
    BatteryTrend trend = new BatteryTrend(8);
    assertFalse(trend.record(60, T0), "the first level only starts the count");
    assertFalse(trend.record(60, T0.plusSeconds(600)));
    assertFalse(trend.record(62, T0.plusSeconds(1200)), "a reading's noise");
    assertTrue(trend.record(59, T0.plusSeconds(3600)));
    assertTrue(trend.record(58, T0.plus(Duration.ofHours(13))));
    // two steps down: too few for a line
    assertEquals(Outlook.UNKNOWN, trend.outlook(T0.plus(Duration.ofHours(13)), HORIZON, MIN_SPAN));
    assertTrue(trend.record(100, T0.plus(Duration.ofHours(14))), "charged");
    assertNull(trend.emptyAt());
    assertEquals(Outlook.CHARGED, trend.outlook(T0.plus(Duration.ofHours(14)), HORIZON, MIN_SPAN));
  }

  @Test
  void aFewQuickStepsAreNoTrendButAFullRingIs() {
    BatteryTrend trend = new BatteryTrend(8);
    for (int k = 0; k < 8; k++) { // 90 starts the count; 7 steps down
      trend.record(90 - k, T0.plus(Duration.ofMinutes(10L * k)));
    }
    assertEquals(Outlook.UNKNOWN, trend.outlook(T0.plus(Duration.ofMinutes(70)), HORIZON, MIN_SPAN), "7 steps within an hour");
    trend.record(82, T0.plus(Duration.ofMinutes(80)));
    assertEquals(Outlook.EMPTY_SOON, trend.outlook(T0.plus(Duration.ofMinutes(80)), HORIZON, MIN_SPAN), "8 steps: a fast drain");
  }

  @Test
  void aSlowDrainIsFineAndAStalledOneSaysNothing() {
    BatteryTrend slow = new BatteryTrend(8);
    for (int k = 0; k < 4; k++) {
      slow.record(90 - k, T0.plus(Duration.ofDays(k))); // a point a day: empty in about 87 days
    }
    assertEquals(Outlook.FINE, slow.outlook(T0.plus(Duration.ofDays(3)), HORIZON, MIN_SPAN));

    BatteryTrend stalled = new BatteryTrend(8);
    for (int k = 0; k < 4; k++) {
      stalled.record(20 - k, T0.plus(Duration.ofHours(6L * k)));
    }
    Instant last = T0.plus(Duration.ofHours(18));
    assertEquals(Outlook.EMPTY_SOON, stalled.outlook(last, HORIZON, MIN_SPAN));
    assertEquals(Outlook.UNKNOWN, stalled.outlook(last.plus(Duration.ofHours(19)), HORIZON, MIN_SPAN),
        "no step for three times the line's 6 hours per point: plugged in, or the line was wrong");
  }

  @Test
  void aCheckpointedTrendReadsBackTheSame() {
    BatteryTrend trend = new BatteryTrend(4);
    for (int k = 0; k < 7; k++) {
      trend.record(50 - k, T0.plus(Duration.ofHours(5L * k)));
    }
    String packed = trend.packed();
    BatteryTrend back = BatteryTrend.unpacked(packed, 4);
    assertEquals(packed, back.packed());
    assertEquals(trend.emptyAt(), back.emptyAt());
    assertEquals(Outlook.UNKNOWN, BatteryTrend.startingAt(30, 4).outlook(T0, HORIZON, MIN_SPAN));
    BatteryTrend charged = BatteryTrend.startingAt(10, 4);
    assertTrue(charged.record(100, T0), "a twin that only knew 10% sees 100% as a charge");
    assertEquals(Outlook.CHARGED, charged.outlook(T0, HORIZON, MIN_SPAN));
  }

  @Test
  void theRingKeepsTheLatestSteps() {
    BatteryTrend trend = new BatteryTrend(3);
    trend.record(90, T0);
    trend.record(89, T0.plus(Duration.ofDays(10))); // slow first
    for (int k = 0; k < 3; k++) {
      trend.record(88 - k, T0.plus(Duration.ofDays(10)).plus(Duration.ofHours(k + 1L))); // then a point an hour
    }
    // the three kept steps: 88, 87, 86 an hour apart; 86% at that pace is 86 hours away
    assertEquals(T0.plus(Duration.ofDays(10)).plus(Duration.ofHours(3 + 86)), trend.emptyAt());
  }
}
