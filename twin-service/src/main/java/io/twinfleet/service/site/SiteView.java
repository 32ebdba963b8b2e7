package io.twinfleet.service.site;

import io.twinfleet.persistence.readmodel.SitesRepository.SiteRow;
import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.quality.Sla;
import io.twinfleet.service.quality.Uptime.Measure;
import io.twinfleet.service.site.SiteState.Counts;
import io.twinfleet.service.site.SiteState.Maintenance;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;

/**
 * A site as it stands at {@code at}: its device counts, whether it is in service and commercially
 * available and since when, its availability over the last 24 hours, 7 and 30 days (null where it
 * was not in service at all), this month's SLA so far, and its maintenance windows that have not
 * ended.
 */
public record SiteView(
    String siteId,
    Instant at,
    Counts counts,
    Instant stateSince,
    Measure last24h,
    Measure last7d,
    Measure last30d,
    Sla.Result thisMonth,
    List<Maintenance> maintenance)
    implements CborSerializable {

  static SiteView of(String siteId, SiteState s, Instant now, SiteSettings settings) {
    return new SiteView(
        siteId,
        now,
        s.counts(),
        s.stateSince(),
        s.availability(Duration.ofDays(1), now),
        s.availability(Duration.ofDays(7), now),
        s.availability(Duration.ofDays(30), now),
        s.sla(YearMonth.from(now.atZone(ZoneOffset.UTC)), now, settings.defaultTarget()),
        s.maintenance().stream().filter(m -> m.to().isAfter(now)).toList());
  }

  /** Working devices over active ones, 0 to 1; null when none is active. */
  public Double technicalUptime() {
    return counts.active() == 0 ? null : (double) counts.working() / counts.active();
  }

  /** Its row in the {@code sites} read model. */
  public SiteRow row() {
    return row(siteId, counts, stateSince, thisMonth, at);
  }

  /** A site's row in the {@code sites} read model: its counts, since when its state holds, and its month so far. */
  static SiteRow row(String siteId, Counts counts, Instant stateSince, Sla.Result month, Instant at) {
    return new SiteRow(siteId, counts.devices(), counts.active(), counts.working(), counts.free(), counts.inUse(), stateSince,
        month.month().toString(), month.counted().toMillis(), month.downtime().toMillis(), month.target(), at);
  }
}
