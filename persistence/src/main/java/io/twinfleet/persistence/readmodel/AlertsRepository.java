package io.twinfleet.persistence.readmodel;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The alert read models: {@code alerts} by state and bucket, and {@code site_alerts} by site. Every
 * write carries its device event's sequence number as the write time, so writing a change again, or
 * after a newer one, changes nothing.
 */
public final class AlertsRepository {

  public static final int BUCKETS = 32;

  /** An alert as listed; {@code state} is OPEN, ACKNOWLEDGED or RESOLVED, times null where not yet. */
  public record AlertRow(String alertId, String state, String deviceId, String kind, String subject, String detail, String customerId,
      String siteId, String model, String stage, Instant raisedAt, Instant acknowledgedAt, Instant resolvedAt, String resolution,
      String note, Instant overAt) {}

  private static final String SHARED =
      "device_id, kind, subject, detail, customer_id, model, stage, raised_at, acknowledged_at, resolved_at, resolution, note, over_at";

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement delete;
  private final PreparedStatement insertSite;
  private final PreparedStatement page;
  private final PreparedStatement sitePage;

  public AlertsRepository(CqlSession session, String keyspace) {
    this.session = session;
    insert = prepare("INSERT INTO " + keyspace + ".alerts (state, bucket, alert_id, site_id, " + SHARED + ")"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ? AND TTL ?");
    delete = prepare("DELETE FROM " + keyspace + ".alerts USING TIMESTAMP ? WHERE state = ? AND bucket = ? AND alert_id = ?");
    insertSite = prepare("INSERT INTO " + keyspace + ".site_alerts (site_id, alert_id, state, " + SHARED + ")"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ? AND TTL ?");
    page = prepare("SELECT state, alert_id, site_id, " + SHARED + " FROM " + keyspace + ".alerts"
        + " WHERE state = ? AND bucket = ? AND alert_id > ? LIMIT ?");
    sitePage = prepare("SELECT state, alert_id, site_id, " + SHARED + " FROM " + keyspace + ".site_alerts"
        + " WHERE site_id = ? AND alert_id > ? LIMIT ?");
  }

  private PreparedStatement prepare(String cql) {
    return session.prepare(SimpleStatement.newInstance(cql).setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM));
  }

  /** The bucket a device's alerts are listed in. */
  public static int bucketOf(String deviceId) {
    return Math.floorMod(deviceId.hashCode(), BUCKETS);
  }

  /**
   * Stores an alert as of its device's event {@code seqNr}, taking it out of {@code previousState}'s
   * listing when it moved (null when it did not); {@code ttlSeconds} 0 keeps it for good.
   */
  public CompletionStage<Void> store(AlertRow r, String previousState, long seqNr, int ttlSeconds) {
    List<CompletableFuture<?>> writes = new ArrayList<>(3);
    int bucket = bucketOf(r.deviceId());
    if (previousState != null && !previousState.equals(r.state())) {
      writes.add(session.executeAsync(delete.bind(seqNr, previousState, bucket, r.alertId())).toCompletableFuture());
    }
    writes.add(session.executeAsync(shared(insert.bind(r.state(), bucket, r.alertId(), r.siteId()), 4, r, seqNr, ttlSeconds))
        .toCompletableFuture());
    if (r.siteId() != null) {
      writes.add(session.executeAsync(shared(insertSite.bind(r.siteId(), r.alertId(), r.state()), 3, r, seqNr, ttlSeconds))
          .toCompletableFuture());
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
  }

  private static BoundStatement shared(BoundStatement b, int from, AlertRow r, long seqNr, int ttlSeconds) {
    int i = from;
    return b.setString(i++, r.deviceId()).setString(i++, r.kind()).setString(i++, r.subject()).setString(i++, r.detail())
        .setString(i++, r.customerId()).setString(i++, r.model()).setString(i++, r.stage()).setInstant(i++, r.raisedAt())
        .setInstant(i++, r.acknowledgedAt()).setInstant(i++, r.resolvedAt()).setString(i++, r.resolution()).setString(i++, r.note())
        .setInstant(i++, r.overAt()).setLong(i++, seqNr).setInt(i, ttlSeconds);
  }

  /** Up to {@code limit} alerts in {@code state} of {@code bucket} after {@code afterAlertId} ("" for the start), by alert id. */
  public CompletionStage<List<AlertRow>> page(String state, int bucket, String afterAlertId, int limit) {
    return rows(page.bind(state, bucket, afterAlertId, limit), limit);
  }

  /** Up to {@code limit} alerts of site {@code siteId} after {@code afterAlertId} ("" for the start), by alert id. */
  public CompletionStage<List<AlertRow>> sitePage(String siteId, String afterAlertId, int limit) {
    return rows(sitePage.bind(siteId, afterAlertId, limit), limit);
  }

  private CompletionStage<List<AlertRow>> rows(BoundStatement query, int limit) {
    return session.executeAsync(query.setPageSize(limit)).thenApply(rs -> {
      List<AlertRow> rows = new ArrayList<>(limit);
      for (Row row : rs.currentPage()) {
        rows.add(new AlertRow(row.getString("alert_id"), row.getString("state"), row.getString("device_id"), row.getString("kind"),
            row.getString("subject"), row.getString("detail"), row.getString("customer_id"), row.getString("site_id"),
            row.getString("model"), row.getString("stage"), row.getInstant("raised_at"), row.getInstant("acknowledged_at"),
            row.getInstant("resolved_at"), row.getString("resolution"), row.getString("note"), row.getInstant("over_at")));
      }
      return rows;
    });
  }
}
