package io.twinfleet.service.quality;

import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Sets of time as sorted, disjoint, non-empty half-open spans: union, intersection, difference
 * and length. Inputs may overlap, touch, be empty or come in any order; outputs never do.
 */
public final class Spans {

  private Spans() {}

  /** The time covered by any of {@code spans}, as sorted disjoint spans (touching ones joined). */
  public static List<Span> union(List<Span> spans) {
    List<Span> sorted = new ArrayList<>(spans.size());
    for (Span s : spans) {
      if (s.to().isAfter(s.from())) {
        sorted.add(s);
      }
    }
    sorted.sort(Comparator.comparing(Span::from));
    List<Span> merged = new ArrayList<>(sorted.size());
    for (Span s : sorted) {
      Span last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
      if (last != null && !s.from().isAfter(last.to())) {
        if (s.to().isAfter(last.to())) {
          merged.set(merged.size() - 1, new Span(last.from(), s.to()));
        }
      } else {
        merged.add(s);
      }
    }
    return merged;
  }

  /** The time in both {@code a} and {@code b}. */
  public static List<Span> intersect(List<Span> a, List<Span> b) {
    List<Span> x = union(a);
    List<Span> y = union(b);
    List<Span> out = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < x.size() && j < y.size()) {
      Instant from = max(x.get(i).from(), y.get(j).from());
      Instant to = min(x.get(i).to(), y.get(j).to());
      if (to.isAfter(from)) {
        out.add(new Span(from, to));
      }
      if (x.get(i).to().isBefore(y.get(j).to())) {
        i++;
      } else {
        j++;
      }
    }
    return out;
  }

  /** The time in {@code a} and not in {@code b}. */
  public static List<Span> subtract(List<Span> a, List<Span> b) {
    List<Span> out = new ArrayList<>();
    List<Span> cut = union(b);
    for (Span s : union(a)) {
      Instant from = s.from();
      for (Span c : cut) {
        if (!c.to().isAfter(from) || !c.from().isBefore(s.to())) {
          continue;
        }
        if (c.from().isAfter(from)) {
          out.add(new Span(from, c.from()));
        }
        from = max(from, c.to());
      }
      if (s.to().isAfter(from)) {
        out.add(new Span(from, s.to()));
      }
    }
    return out;
  }

  /** How much time {@code spans} cover, overlaps counted once. */
  public static Duration length(List<Span> spans) {
    Duration total = Duration.ZERO;
    for (Span s : union(spans)) {
      total = total.plus(Duration.between(s.from(), s.to()));
    }
    return total;
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
