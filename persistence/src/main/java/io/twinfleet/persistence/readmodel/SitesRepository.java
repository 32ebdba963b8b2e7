package io.twinfleet.persistence.readmodel;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The site read models: {@code device_sites} (which site a device's events go to) and {@code sites}
 * (each site's summary, in {@link #BUCKETS} buckets). Every write is an upsert, so writing the same
 * thing again changes nothing.
 */
public final class SitesRepository {

  public static final int BUCKETS = 32;

  /** Where a device's events go from its claim or move numbered {@code seqNr} on. */
  public record Route(String siteId, long seqNr) {}

  /**
   * A site's summary: its device counts, when its current state began, and its SLA month ({@code
   * "2026-12"}) so far as of {@code asOf}: the time counted and the time down, in milliseconds.
   */
  public record SiteRow(String siteId, int devices, int active, int working, int free, int inUse, Instant stateSince,
      String month, long monthCountedMillis, long monthDownMillis, double target, Instant asOf) {

    public boolean inService() {
      return active > 0;
    }

    public boolean available() {
      return free > 0;
    }
  }

  private static final String COLUMNS =
      "site_id, devices, active, working, free, in_use, state_since, month, month_counted_ms, month_down_ms, target, as_of";

  private final CqlSession session;
  private final PreparedStatement readRoute;
  private final PreparedStatement writeRoute;
  private final PreparedStatement writeSite;
  private final PreparedStatement page;

  public SitesRepository(CqlSession session, String keyspace) {
    this.session = session;
    readRoute = prepare("SELECT site_id, seq_nr FROM " + keyspace + ".device_sites WHERE device_id = ?");
    writeRoute = prepare("INSERT INTO " + keyspace + ".device_sites (device_id, site_id, seq_nr) VALUES (?, ?, ?)");
    writeSite = prepare("INSERT INTO " + keyspace + ".sites (bucket, " + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        + " USING TIMESTAMP ?");
    page = prepare("SELECT " + COLUMNS + " FROM " + keyspace + ".sites WHERE bucket = ? AND site_id > ? LIMIT ?");
  }

  /** A quorum of replicas: the projection reads the routes it wrote before. */
  private PreparedStatement prepare(String cql) {
    return session.prepare(SimpleStatement.newInstance(cql).setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM));
  }

  /** The bucket a site is listed in. */
  public static int bucketOf(String siteId) {
    return Math.floorMod(siteId.hashCode(), BUCKETS);
  }

  /** The stored routes of those of {@code deviceIds} that have one, read in parallel. */
  public CompletionStage<Map<String, Route>> routes(Collection<String> deviceIds) {
    return KeyedReads.read(session, readRoute, deviceIds, row -> new Route(row.getString("site_id"), row.getLong("seq_nr")));
  }

  /** Stores the routes, in parallel. */
  public CompletionStage<Void> route(Map<String, Route> routes) {
    return CompletableFuture.allOf(routes.entrySet().stream()
        .map(r -> session.executeAsync(writeRoute.bind(r.getKey(), r.getValue().siteId(), r.getValue().seqNr())).toCompletableFuture())
        .toArray(CompletableFuture[]::new));
  }

  /**
   * Stores a site's summary as of its event {@code seqNr}: a row stored for a later event stays
   * (the sequence number is the write time).
   */
  public CompletionStage<Void> store(SiteRow r, long seqNr) {
    return session.executeAsync(writeSite.bind(bucketOf(r.siteId()), r.siteId(), r.devices(), r.active(), r.working(), r.free(),
            r.inUse(), r.stateSince(), r.month(), r.monthCountedMillis(), r.monthDownMillis(), r.target(), r.asOf(), seqNr))
        .thenApply(rs -> null);
  }

  /** Up to {@code limit} sites of {@code bucket} after {@code afterSiteId} ("" for the start), in site id order. */
  public CompletionStage<List<SiteRow>> page(int bucket, String afterSiteId, int limit) {
    return session.executeAsync(page.bind(bucket, afterSiteId, limit).setPageSize(limit)).thenApply(rs -> {
      List<SiteRow> rows = new ArrayList<>(limit);
      for (Row row : rs.currentPage()) {
        rows.add(new SiteRow(row.getString("site_id"), row.getInt("devices"), row.getInt("active"), row.getInt("working"),
            row.getInt("free"), row.getInt("in_use"), row.getInstant("state_since"), row.getString("month"),
            row.getLong("month_counted_ms"), row.getLong("month_down_ms"), row.getDouble("target"), row.getInstant("as_of")));
      }
      return rows;
    });
  }
}
