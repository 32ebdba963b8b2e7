package io.twinfleet.service.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The monthly SLA arithmetic at its edges. */
class SlaTest {

  private static final YearMonth JANUARY = YearMonth.of(2027, 1);
  private static final Instant JAN_1 = Instant.parse("2027-01-01T00:00:00Z");
  private static final Instant LATER = Instant.parse("2027-06-01T00:00:00Z");
  private static final List<Span> ALWAYS = List.of(new Span(Instant.parse("2026-06-01T00:00:00Z"), LATER));

  private static Span span(String from, String to) {
    return new Span(Instant.parse(from), Instant.parse(to));
  }

  @Test
  void aMonthWithoutDowntimeIsFullyAvailable() {
    Sla.Result r = Sla.of(JANUARY, LATER, ALWAYS, List.of(), List.of(), 0.99);
    assertEquals(Duration.ofDays(31), r.counted());
    assertEquals(1.0, r.availability());
    assertTrue(r.met());
  }

  @Test
  void anOutageOverMidnightAtTheMonthsEndIsSplitBetweenTheMonths() {
    List<Span> outage = List.of(span("2027-01-31T23:00:00Z", "2027-02-01T01:00:00Z"));
    Sla.Result jan = Sla.of(JANUARY, LATER, ALWAYS, outage, List.of(), 0.99);
    Sla.Result feb = Sla.of(YearMonth.of(2027, 2), LATER, ALWAYS, outage, List.of(), 0.99);
    assertEquals(List.of(span("2027-01-31T23:00:00Z", "2027-02-01T00:00:00Z")), jan.downtimes());
    assertEquals(List.of(span("2027-02-01T00:00:00Z", "2027-02-01T01:00:00Z")), feb.downtimes());
    assertEquals(Duration.ofDays(28), feb.counted());
    assertEquals(1 - 1.0 / (28 * 24), feb.availability(), 1e-12);
  }

  @Test
  void maintenanceOverlappingDowntimeCountsNeitherAsDowntimeNorAsTime() {
    List<Span> outage = List.of(span("2027-01-10T10:00:00Z", "2027-01-10T14:00:00Z"));
    List<Span> maintenance = List.of(span("2027-01-10T12:00:00Z", "2027-01-10T18:00:00Z"));
    Sla.Result r = Sla.of(JANUARY, LATER, ALWAYS, outage, maintenance, 0.99);
    assertEquals(List.of(span("2027-01-10T10:00:00Z", "2027-01-10T12:00:00Z")), r.downtimes());
    assertEquals(Duration.ofHours(6), r.maintenance());
    assertEquals(Duration.ofDays(31).minusHours(6), r.counted());
  }

  @Test
  void aSiteWhoseFirstDeviceCameMidMonthCountsFromThen() {
    List<Span> fromThe21st = List.of(new Span(Instant.parse("2027-01-21T00:00:00Z"), LATER));
    Sla.Result r = Sla.of(JANUARY, LATER, fromThe21st, List.of(span("2027-01-05T00:00:00Z", "2027-01-06T00:00:00Z")), List.of(), 0.99);
    assertEquals(Duration.ofDays(11), r.counted());
    assertEquals(List.of(), r.downtimes(), "before it had a device it promised nothing");
  }

  @Test
  void aSiteWithNoDevicesHasNothingToMeasureAndBreaksNoPromise() {
    Sla.Result r = Sla.of(JANUARY, LATER, List.of(), List.of(span("2027-01-05T00:00:00Z", "2027-01-06T00:00:00Z")), List.of(), 0.99);
    assertFalse(r.measured());
    assertEquals(Duration.ZERO, r.downtime());
    assertTrue(r.met());
  }

  @Test
  void aMonthInProgressCountsUpToNowAndAMonthToComeCountsNothing() {
    Instant now = Instant.parse("2027-01-11T00:00:00Z");
    assertEquals(Duration.ofDays(10), Sla.of(JANUARY, now, ALWAYS, List.of(), List.of(), 0.99).counted());
    assertFalse(Sla.of(YearMonth.of(2027, 2), now, ALWAYS, List.of(), List.of(), 0.99).measured());
  }

  @Test
  void theTargetIsMetExactlyAtItsShare() {
    // 1% of January's 31 days (7.44 hours) down is exactly 99%
    Duration onePercent = Duration.ofDays(31).dividedBy(100);
    List<Span> outage = List.of(new Span(JAN_1, JAN_1.plus(onePercent)));
    assertTrue(Sla.of(JANUARY, LATER, ALWAYS, outage, List.of(), 0.99).met());
    List<Span> longer = List.of(new Span(JAN_1, JAN_1.plus(onePercent).plusSeconds(1)));
    assertFalse(Sla.of(JANUARY, LATER, ALWAYS, longer, List.of(), 0.99).met());
  }
}
