package io.twinfleet.service.site;

import io.twinfleet.persistence.readmodel.SitesRepository;
import io.twinfleet.persistence.readmodel.SitesRepository.SiteRow;
import io.twinfleet.service.PageTokens;
import io.twinfleet.service.device.Validation;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Site lists from the {@code sites} read model: the buckets in order, each by site id. A filter
 * keeps the rows that may match (see {@link Filter#mayMatch}); the caller decides with each site's
 * live view. A page stops after {@link #MAX_SCAN} rows, so a rare filter returns a short page with a
 * token rather than scanning on.
 */
public final class SiteQueries {

  static final int MAX_SCAN = 2_000;

  /**
   * {@code unavailableNow}: in service and not commercially available; {@code belowSla}: this
   * month's SLA so far is under its target.
   */
  public record Filter(boolean unavailableNow, boolean belowSla) {

    /**
     * Whether the row may match at {@code now}. A row is the site as of its last change; the state
     * it was in has gone on since, which is exact for "unavailable now" and, for the SLA, bounds
     * this month's availability between the row's figure and its figure carried on to now
     * (maintenance declared since is not in the row): within that range against the target.
     */
    boolean mayMatch(SiteRow row, Instant now) {
      if (unavailableNow && !(row.inService() && !row.available())) {
        return false;
      }
      return !belowSla || mayBeBelowSla(row, now);
    }

    private static boolean mayBeBelowSla(SiteRow row, Instant now) {
      YearMonth month = YearMonth.from(now.atZone(ZoneOffset.UTC));
      Instant monthStart = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
      boolean sameMonth = month.toString().equals(row.month());
      long counted = sameMonth ? row.monthCountedMillis() : 0;
      long down = sameMonth ? row.monthDownMillis() : 0;
      Instant since = row.asOf().isAfter(monthStart) ? row.asOf() : monthStart;
      long more = Math.max(0, Duration.between(since, now).toMillis());
      long countedNow = counted + (row.inService() ? more : 0);
      long downNow = down + (row.inService() && !row.available() ? more : 0);
      boolean belowThen = counted > 0 && 1 - (double) down / counted < row.target();
      boolean belowNow = countedNow > 0 && 1 - (double) downNow / countedNow < row.target();
      return belowThen || belowNow;
    }

    String fingerprint() {
      return (unavailableNow ? "u" : "-") + (belowSla ? "s" : "-");
    }
  }

  /** Site ids that may match, in list order; {@code nextToken} is null on the last page. */
  public record Page(List<String> siteIds, String nextToken) {}

  private record Position(int bucket, String after) {}

  private final SitesRepository sites;
  private final int maxScan;

  public SiteQueries(SitesRepository sites) {
    this(sites, MAX_SCAN);
  }

  SiteQueries(SitesRepository sites, int maxScan) {
    this.sites = sites;
    this.maxScan = maxScan;
  }

  /** A page of the sites that may match {@code filter} at {@code now}, from {@code token} (empty for the first page). */
  public CompletionStage<Page> list(Filter filter, Instant now, int pageSize, String token) {
    return scan(filter, now, decode(filter, token), pageSize, new ArrayList<>(pageSize), 0);
  }

  private CompletionStage<Page> scan(Filter filter, Instant now, Position at, int pageSize, List<String> found, int scanned) {
    int limit = Math.min(maxScan - scanned, 500);
    return sites.page(at.bucket(), at.after(), limit).thenCompose(rows -> {
      String last = at.after();
      for (SiteRow row : rows) {
        last = row.siteId();
        if (filter.mayMatch(row, now)) {
          found.add(row.siteId());
          if (found.size() == pageSize) {
            return done(found, encode(filter, new Position(at.bucket(), last)));
          }
        }
      }
      Position next = rows.size() < limit ? new Position(at.bucket() + 1, "") : new Position(at.bucket(), last);
      if (next.bucket() >= SitesRepository.BUCKETS) {
        return done(found, null);
      }
      int seen = scanned + rows.size();
      return seen >= maxScan ? done(found, encode(filter, next)) : scan(filter, now, next, pageSize, found, seen);
    });
  }

  private static CompletionStage<Page> done(List<String> found, String nextToken) {
    return CompletableFuture.completedFuture(new Page(found, nextToken));
  }

  private static String encode(Filter filter, Position p) {
    return PageTokens.encode(filter.fingerprint(), p.bucket(), p.after());
  }

  private static Position decode(Filter filter, String token) {
    if (token.isEmpty()) {
      return new Position(0, "");
    }
    String[] parts = PageTokens.decode(filter.fingerprint(), token, 2);
    if (!(parts[1].isEmpty() || Validation.ID.matcher(parts[1]).matches())) {
      throw PageTokens.notOurs();
    }
    return new Position(PageTokens.index(parts[0], SitesRepository.BUCKETS), parts[1]);
  }
}
