package io.twinfleet.service.quality;

import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;

/**
 * A site's service level over a calendar month (UTC), as DESIGN defines it: the share of the month
 * in which the site was commercially available, counting only the time it had a device in service
 * and leaving out declared maintenance windows, against a target.
 */
public final class Sla {

  private Sla() {}

  /**
   * The month's figures. {@code counted} is the time that counted (in service, outside maintenance,
   * up to now for a month in progress); {@code downtimes} the spans of it in which the site was not
   * available, oldest first; {@code maintenance} the declared time left out.
   */
  public record Result(YearMonth month, Duration counted, Duration maintenance, List<Span> downtimes, double target) {

    public Duration downtime() {
      return Spans.length(downtimes);
    }

    /** Whether there was any time to measure: a site with no device in service all month has none. */
    public boolean measured() {
      return !counted.isZero();
    }

    /** The share of the counted time the site was available, 0 to 1; 1 when nothing counted. */
    public double availability() {
      return counted.isZero() ? 1 : 1 - (double) downtime().toNanos() / counted.toNanos();
    }

    /** Whether the availability reached the target (a month with nothing to measure broke no promise). */
    public boolean met() {
      return availability() >= target;
    }
  }

  /**
   * @param month the calendar month, UTC
   * @param now the service clock: a month in progress counts up to now, a month to come counts nothing
   * @param inService when the site had at least one device in service (the spans may overlap)
   * @param unavailable when the site was not commercially available
   * @param maintenance declared maintenance windows
   * @param target the share the site promises, e.g. 0.99
   */
  public static Result of(YearMonth month, Instant now, List<Span> inService, List<Span> unavailable, List<Span> maintenance,
      double target) {
    Instant start = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant end = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant until = now.isBefore(end) ? now : end;
    List<Span> window = until.isAfter(start) ? List.of(new Span(start, until)) : List.of();
    List<Span> served = Spans.intersect(inService, window);
    List<Span> declared = Spans.intersect(maintenance, served);
    List<Span> counted = Spans.subtract(served, declared);
    return new Result(month, Spans.length(counted), Spans.length(declared), Spans.intersect(unavailable, counted), target);
  }
}
