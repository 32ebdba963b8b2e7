package io.twinfleet.service.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpansTest {

  private static final Instant T = Instant.parse("2027-01-01T00:00:00Z");

  private static Span s(int from, int to) {
    return new Span(T.plusSeconds(from), T.plusSeconds(to));
  }

  @Test
  void unionJoinsOverlappingAndTouchingSpansAndDropsEmptyOnes() {
    assertEquals(List.of(s(0, 30), s(40, 50)), Spans.union(List.of(s(20, 30), s(0, 10), s(10, 15), s(12, 25), s(40, 50), s(60, 60))));
  }

  @Test
  void intersectionAndDifference() {
    List<Span> a = List.of(s(0, 10), s(20, 30));
    List<Span> b = List.of(s(5, 25));
    assertEquals(List.of(s(5, 10), s(20, 25)), Spans.intersect(a, b));
    assertEquals(List.of(s(0, 5), s(25, 30)), Spans.subtract(a, b));
    assertEquals(List.of(s(10, 20)), Spans.subtract(b, Spans.union(List.of(s(0, 10), s(20, 30), s(5, 6)))));
    assertEquals(List.of(), Spans.subtract(a, List.of(s(-5, 50))));
    assertEquals(Duration.ofSeconds(25), Spans.length(List.of(s(0, 10), s(5, 20), s(30, 35))));
  }
}
