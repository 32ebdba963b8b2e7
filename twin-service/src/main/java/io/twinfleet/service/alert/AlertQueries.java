package io.twinfleet.service.alert;

import io.twinfleet.persistence.readmodel.AlertsRepository;
import io.twinfleet.persistence.readmodel.AlertsRepository.AlertRow;
import io.twinfleet.service.PageTokens;
import io.twinfleet.service.device.Alert;
import io.twinfleet.service.device.AlertKind;
import io.twinfleet.service.device.Stage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * Alert lists from the alert read models: with a site, that site's partition; otherwise the
 * partitions of each state asked for (open, acknowledged, resolved), each in its buckets' order,
 * each by alert id. Kind, state and stage filter the rows read; a page stops after {@link #MAX_SCAN}
 * rows, so a rare filter returns a short page with a token rather than scanning on.
 */
public final class AlertQueries {

  static final int MAX_SCAN = 2_000;

  /** Null fields match everything. */
  public record Filter(AlertKind kind, Alert.State state, String siteId, Stage stage) {

    boolean matches(AlertRow row) {
      return (kind == null || kind.name().equals(row.kind()))
          && (state == null || state.name().equals(row.state()))
          && (stage == null || stage.name().equals(row.stage()));
    }

    /** The partitions to read, in order: one site's, or (state, bucket) pairs. */
    int partitions() {
      return siteId != null ? 1 : (state != null ? 1 : Alert.State.values().length) * AlertsRepository.BUCKETS;
    }

    String fingerprint() {
      return (kind == null ? "-" : kind.name()) + "," + (state == null ? "-" : state.name()) + "," + (siteId == null ? "-" : siteId)
          + "," + (stage == null ? "-" : stage.name());
    }
  }

  /** Alerts in list order; {@code nextToken} is null on the last page. */
  public record Page(List<AlertRow> alerts, String nextToken) {}

  private record Position(int partition, String after) {}

  private final AlertsRepository alerts;
  private final int maxScan;

  public AlertQueries(AlertsRepository alerts) {
    this(alerts, MAX_SCAN);
  }

  AlertQueries(AlertsRepository alerts, int maxScan) {
    this.alerts = alerts;
    this.maxScan = maxScan;
  }

  /** A page of the alerts that match {@code filter}, from {@code token} (empty for the first page). */
  public CompletionStage<Page> list(Filter filter, int pageSize, String token) {
    return scan(filter, decode(filter, token), pageSize, new ArrayList<>(pageSize), 0);
  }

  private CompletionStage<Page> scan(Filter filter, Position at, int pageSize, List<AlertRow> found, int scanned) {
    int limit = Math.min(maxScan - scanned, 500);
    return read(filter, at, limit).thenCompose(rows -> {
      String last = at.after();
      for (AlertRow row : rows) {
        last = row.alertId();
        if (filter.matches(row)) {
          found.add(row);
          if (found.size() == pageSize) {
            return done(found, encode(filter, new Position(at.partition(), last)));
          }
        }
      }
      Position next = rows.size() < limit ? new Position(at.partition() + 1, "") : new Position(at.partition(), last);
      if (next.partition() >= filter.partitions()) {
        return done(found, null);
      }
      int seen = scanned + rows.size();
      return seen >= maxScan ? done(found, encode(filter, next)) : scan(filter, next, pageSize, found, seen);
    });
  }

  private CompletionStage<List<AlertRow>> read(Filter filter, Position at, int limit) {
    if (filter.siteId() != null) {
      return alerts.sitePage(filter.siteId(), at.after(), limit);
    }
    int bucket = at.partition() % AlertsRepository.BUCKETS;
    Alert.State state = filter.state() != null ? filter.state() : Alert.State.values()[at.partition() / AlertsRepository.BUCKETS];
    return alerts.page(state.name(), bucket, at.after(), limit);
  }

  private static CompletionStage<Page> done(List<AlertRow> found, String nextToken) {
    return CompletableFuture.completedFuture(new Page(found, nextToken));
  }

  private static String encode(Filter filter, Position p) {
    return PageTokens.encode(filter.fingerprint(), p.partition(), p.after());
  }

  private static Position decode(Filter filter, String token) {
    if (token.isEmpty()) {
      return new Position(0, "");
    }
    String[] parts = PageTokens.decode(filter.fingerprint(), token, 2);
    if (!(parts[1].isEmpty() || ALERT_ID.matcher(parts[1]).matches())) {
      throw PageTokens.notOurs();
    }
    return new Position(PageTokens.index(parts[0], filter.partitions()), parts[1]);
  }

  /** An alert id: a device id, a slash and a number. */
  public static final Pattern ALERT_ID = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._:-]{0,63})/([1-9][0-9]{0,8})");
}
