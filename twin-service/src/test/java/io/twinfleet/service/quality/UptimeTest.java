package io.twinfleet.service.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class UptimeTest {

  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  /** A span from hour {@code from} to hour {@code to} after T0. */
  private static Span hours(double from, double to) {
    return new Span(T0.plusSeconds((long) (from * 3600)), T0.plusSeconds((long) (to * 3600)));
  }

  private static double share(Span life, List<Span> offline, Span window) {
    return Uptime.measure(life, offline, window).orElseThrow().ratio();
  }

  @Test
  void neverOfflineIsFullUptime() {
    assertEquals(1.0, share(hours(0, 100), List.of(), hours(0, 24)));
  }

  @Test
  void offlineTimeIsTheShareOfTheWindowLost() {
    assertEquals(0.75, share(hours(0, 100), List.of(hours(6, 12)), hours(0, 24)), 1e-12);
  }

  @Test
  void offlineSpansStickingOutOfTheWindowCountOnlyTheirInsidePart() {
    // 2 h before the window start and 3 h after its end do not count: 1 h + 1 h of 24 h inside
    assertEquals(22.0 / 24, share(hours(-50, 100), List.of(hours(-2, 1), hours(23, 27)), hours(0, 24)), 1e-12);
  }

  @Test
  void aDeviceThatJoinedMidWindowIsMeasuredOverItsOwnLifeOnly() {
    // alive from hour 12: 12 h counted, 3 h of it offline
    assertEquals(0.75, share(hours(12, 100), List.of(hours(14, 17)), hours(0, 24)), 1e-12);
  }

  @Test
  void aRetiredDeviceIsMeasuredUntilItsRetirement() {
    assertEquals(0.5, share(hours(0, 8), List.of(hours(4, 30)), hours(0, 24)), 1e-12);
  }

  @Test
  void overlappingOfflineSpansAreCountedOnce() {
    assertEquals(Duration.ofHours(6), Uptime.downtime(List.of(hours(2, 6), hours(4, 8), hours(5, 7)), hours(0, 24)));
    assertEquals(0.75, share(hours(0, 24), List.of(hours(2, 6), hours(4, 8), hours(5, 7)), hours(0, 24)), 1e-12);
  }

  @Test
  void spansThatTouchAddUp() {
    assertEquals(Duration.ofHours(4), Uptime.downtime(List.of(hours(3, 5), hours(1, 3)), hours(0, 24)));
  }

  @Test
  void offlineForTheWholeWindowIsZero() {
    assertEquals(0.0, share(hours(0, 100), List.of(hours(-1, 200)), hours(0, 24)));
  }

  @Test
  void aWindowOutsideTheDevicesLifeHasNoUptime() {
    assertTrue(Uptime.measure(hours(30, 40), List.of(), hours(0, 24)).isEmpty());
    assertTrue(Uptime.measure(hours(0, 10), List.of(), hours(10, 24)).isEmpty(), "life ends exactly where the window starts");
    assertTrue(Uptime.measure(hours(0, 10), List.of(), hours(5, 5)).isEmpty(), "empty window");
  }

  @Test
  void aSpanCannotEndBeforeItStarts() {
    assertThrows(IllegalArgumentException.class, () -> hours(2, 1));
  }
}
