package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.twinfleet.service.device.DeviceState.OfflineHistory;
import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bounded record of a device's ended offline episodes. */
class OfflineHistoryTest {

  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  private static Instant h(double hours) {
    return T0.plusMillis((long) (hours * 3_600_000));
  }

  @Test
  void endedEpisodesAreKeptInOrderAndAddUp() {
    OfflineHistory h = OfflineHistory.NONE.ended(h(1), h(2)).ended(h(5), h(5.5));
    assertEquals(List.of(new Span(h(1), h(2)), new Span(h(5), h(5.5))), h.recent());
    assertEquals(Duration.ofMinutes(90).toMillis(), h.totalMillis());
  }

  @Test
  void anEmptyEpisodeChangesNothing() {
    assertSame(OfflineHistory.NONE, OfflineHistory.NONE.ended(h(1), h(1)));
  }

  @Test
  void episodesThatEndedMoreThanThirtyDaysBeforeTheNewestAreDroppedButStillCount() {
    OfflineHistory h = OfflineHistory.NONE.ended(h(0), h(1)).ended(h(2), h(3));
    Instant month = h(3).plus(OfflineHistory.KEPT);
    h = h.ended(month.minusSeconds(60), month);
    assertEquals(List.of(new Span(h(2), h(3)), new Span(month.minusSeconds(60), month)), h.recent(),
        "an episode ending exactly thirty days before is kept, one before that is not");
    assertEquals(Duration.ofHours(2).plusSeconds(60).toMillis(), h.totalMillis());
  }

  @Test
  void beyondTheCapTheTwoClosestEpisodesMerge() {
    OfflineHistory h = OfflineHistory.NONE;
    // episodes of a minute, ten minutes apart, except one pair only a second apart
    Instant t = T0;
    for (int i = 0; i < OfflineHistory.MAX_SPANS; i++) {
      h = h.ended(t, t.plusSeconds(60));
      t = t.plusSeconds(i == 500 ? 61 : 660);
    }
    assertEquals(OfflineHistory.MAX_SPANS, h.recent().size());
    h = h.ended(t, t.plusSeconds(60));
    List<Span> spans = h.recent();
    assertEquals(OfflineHistory.MAX_SPANS, spans.size());
    Span merged = spans.get(500);
    assertEquals(Duration.ofSeconds(121), Duration.between(merged.from(), merged.to()), "the pair a second apart, and the second between");
    assertEquals(Duration.ofSeconds(60).multipliedBy(OfflineHistory.MAX_SPANS + 1).toMillis(), h.totalMillis(),
        "the total counts only offline time");
  }
}
