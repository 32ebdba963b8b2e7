package io.twinfleet.service.quality;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Time-weighted uptime as DESIGN defines it: the share of a window, within a device's life, in which
 * it was not offline. Pure arithmetic on half-open spans {@code [from, to)}; the twin supplies its
 * offline spans and its life, the caller the window.
 */
public final class Uptime {

  private Uptime() {}

  /** A half-open span of time {@code [from, to)}. */
  public record Span(Instant from, Instant to) {
    public Span {
      if (to.isBefore(from)) {
        throw new IllegalArgumentException("span ends before it starts: " + from + " .. " + to);
      }
    }

    Duration length() {
      return Duration.between(from, to);
    }

    /** The part of this span inside {@code other}; empty (zero length) when they do not meet. */
    Span within(Span other) {
      Instant f = from.isAfter(other.from) ? from : other.from;
      Instant t = to.isBefore(other.to) ? to : other.to;
      return t.isAfter(f) ? new Span(f, t) : new Span(f, f);
    }
  }

  /**
   * How much of a window counted (the part within the device's life) and how much of that the
   * device spent offline.
   */
  public record Measure(Duration counted, Duration offline) {
    public Measure {
      if (counted.isNegative() || offline.isNegative() || offline.compareTo(counted) > 0) {
        throw new IllegalArgumentException("offline " + offline + " of " + counted + " counted");
      }
    }

    /** The uptime: the share of the counted time not spent offline, 0 to 1. */
    public double ratio() {
      return counted.isZero() ? 1 : 1 - (double) offline.toNanos() / counted.toNanos();
    }
  }

  /**
   * The part of {@code window} within {@code life}, and how much of it the device spent in any of
   * {@code offline} (spans which may overlap each other and stick out of the window). Empty when the
   * window holds no moment of the device's life: no uptime rather than a made-up 100%.
   */
  public static Optional<Measure> measure(Span life, List<Span> offline, Span window) {
    Span counted = life.within(window);
    if (counted.length().isZero()) {
      return Optional.empty();
    }
    return Optional.of(new Measure(counted.length(), downtime(offline, counted)));
  }

  /** Total time inside {@code window} covered by {@code spans}, counting overlaps once. */
  public static Duration downtime(List<Span> spans, Span window) {
    return Spans.length(Spans.intersect(spans, List.of(window)));
  }
}
