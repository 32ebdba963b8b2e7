package io.twinfleet.persistence.readmodel;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.type.reflect.GenericType;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The journey read models: {@code device_journeys} (each claimed device's journey and the last
 * event applied to it), its indexes {@code stage_devices} (by stage, in {@link #STAGE_BUCKETS}
 * buckets) and {@code site_devices}, and {@code stage_funnel} (counts per projection slice). Every
 * write is an upsert or a delete of a known row, so writing the same change again changes nothing.
 */
public final class JourneyRepository {

  /**
   * Buckets per stage: a million devices in one stage make partitions of about 31,000 rows (5 MB),
   * and listing a whole stage of a small fleet costs 32 short reads.
   */
  public static final int STAGE_BUCKETS = 32;

  /**
   * A claimed device's journey as the read models hold it. {@code stage} is the stage's name, null
   * while the device has no stage to be listed under; the churn risk is the one its twin last
   * stored (score 0, factors and time null if none); {@code seqNr} is the sequence number of the
   * last event applied (0 in index rows, which do not keep it). Index rows hold only what their
   * queries answer.
   */
  public record JourneyRow(String deviceId, String customerId, String siteId, String model, String stage, Instant stageSince,
      Instant claimedAt, Instant activatedAt, boolean decommissioned, int riskScore, String riskFactors, Instant riskAt, long seqNr) {

    /** Whether ListAtRisk lists it: it has a stage, a risk above zero, and is not retired. */
    public boolean atRisk() {
      return stage != null && !decommissioned && riskScore > 0;
    }
  }

  /**
   * The funnel of one projection slice: per model, devices per stage name and an encoded histogram
   * of claim-to-activation times; and the device rows written with these counts, in whatever form
   * the projection encodes them.
   */
  public record FunnelSlice(Map<String, Map<String, Long>> counts, Map<String, ByteBuffer> claimToActivation, String pending) {

    public static FunnelSlice empty() {
      return new FunnelSlice(Map.of(), Map.of(), null);
    }
  }

  private static final String COLUMNS = "device_id, customer_id, site_id, model, stage, stage_since, claimed_at, activated_at, decommissioned";
  private static final String RISK = "risk_score, risk_factors, risk_at";
  private static final GenericType<Map<String, Map<String, Long>>> COUNTS =
      GenericType.mapOf(GenericType.STRING, GenericType.mapOf(GenericType.STRING, GenericType.LONG));
  private static final GenericType<Map<String, ByteBuffer>> HISTOGRAMS = GenericType.mapOf(GenericType.STRING, GenericType.BYTE_BUFFER);

  private final CqlSession session;
  private final PreparedStatement readRow;
  private final PreparedStatement writeRow;
  private final PreparedStatement listStage;
  private final PreparedStatement unlistStage;
  private final PreparedStatement stagePage;
  private final PreparedStatement listSite;
  private final PreparedStatement unlistSite;
  private final PreparedStatement sitePage;
  private final PreparedStatement readFunnel;
  private final PreparedStatement writeFunnel;
  private final PreparedStatement listRisk;
  private final PreparedStatement unlistRisk;
  private final PreparedStatement riskPage;

  public JourneyRepository(CqlSession session, String keyspace) {
    this.session = session;
    String journeys = keyspace + ".device_journeys";
    readRow = prepare("SELECT " + COLUMNS + ", " + RISK + ", seq_nr FROM " + journeys + " WHERE device_id = ?");
    writeRow = prepare("INSERT INTO " + journeys + " (" + COLUMNS + ", " + RISK + ", seq_nr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    String stages = keyspace + ".stage_devices";
    listStage = prepare("INSERT INTO " + stages + " (bucket, " + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    unlistStage = prepare("DELETE FROM " + stages + " WHERE stage = ? AND bucket = ? AND device_id = ?");
    stagePage = prepare("SELECT " + COLUMNS + " FROM " + stages + " WHERE stage = ? AND bucket = ? AND device_id > ? LIMIT ?");
    String sites = keyspace + ".site_devices";
    listSite = prepare("INSERT INTO " + sites + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    unlistSite = prepare("DELETE FROM " + sites + " WHERE site_id = ? AND device_id = ?");
    sitePage = prepare("SELECT " + COLUMNS + " FROM " + sites + " WHERE site_id = ? AND device_id > ? LIMIT ?");
    String funnel = keyspace + ".stage_funnel";
    readFunnel = prepare("SELECT counts, claim_to_activation, pending FROM " + funnel + " WHERE slice = ?");
    writeFunnel = prepare("INSERT INTO " + funnel + " (slice, counts, claim_to_activation, pending) VALUES (?, ?, ?, ?)");
    String risks = keyspace + ".at_risk_devices";
    listRisk = prepare("INSERT INTO " + risks + " (stage, bucket, device_id, customer_id, site_id, model, " + RISK + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    unlistRisk = prepare("DELETE FROM " + risks + " WHERE stage = ? AND bucket = ? AND risk_score = ? AND device_id = ?");
    riskPage = prepare("SELECT stage, device_id, customer_id, site_id, model, " + RISK + " FROM " + risks
        + " WHERE stage = ? AND bucket = ? AND risk_score >= ? LIMIT ?");
  }

  /**
   * Every statement reads and writes a quorum of replicas: a group reads the rows the previous
   * group wrote, and counts stay exact only if it sees them (with replication factor 1, one).
   */
  private PreparedStatement prepare(String cql) {
    return session.prepare(SimpleStatement.newInstance(cql).setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM));
  }

  /** The bucket of a stage a device is listed in. */
  public static int bucketOf(String deviceId) {
    return Math.floorMod(deviceId.hashCode(), STAGE_BUCKETS);
  }

  /** The stored rows of those of {@code deviceIds} that have one, read in parallel. */
  public CompletionStage<Map<String, JourneyRow>> rows(Collection<String> deviceIds) {
    return KeyedReads.read(session, readRow, deviceIds, row -> journeyRow(row, row.getLong("seq_nr")));
  }


  /**
   * Stores a device's row {@code after}, which was {@code before} (null if it had none): first its
   * listings under its stage and site (leaving the old ones), then the row itself, so a row never
   * claims an event whose listings are not written.
   */
  public CompletionStage<Void> store(JourneyRow before, JourneyRow after) {
    String id = after.deviceId();
    List<CompletableFuture<?>> listings = new ArrayList<>(4);
    if (before != null && before.stage() != null && !before.stage().equals(after.stage())) {
      listings.add(execute(unlistStage.bind(before.stage(), bucketOf(id), id)));
    }
    if (after.stage() != null) {
      listings.add(execute(bind(listStage.bind().setInt(0, bucketOf(id)), 1, after)));
    }
    if (before != null && before.siteId() != null && !before.siteId().equals(after.siteId())) {
      listings.add(execute(unlistSite.bind(before.siteId(), id)));
    }
    if (after.siteId() != null) {
      listings.add(execute(bind(listSite.bind(), 0, after)));
    }
    boolean riskMoved = before == null || !before.atRisk() || !after.atRisk()
        || !before.stage().equals(after.stage()) || before.riskScore() != after.riskScore();
    if (before != null && before.atRisk() && riskMoved) {
      listings.add(execute(unlistRisk.bind(before.stage(), bucketOf(id), before.riskScore(), id)));
    }
    if (after.atRisk()) {
      listings.add(execute(listRisk.bind(after.stage(), bucketOf(id), id, after.customerId(), after.siteId(), after.model(),
          after.riskScore(), after.riskFactors(), after.riskAt())));
    }
    return CompletableFuture.allOf(listings.toArray(CompletableFuture[]::new))
        .thenCompose(done -> execute(bindRisk(bind(writeRow.bind(), 0, after), 9, after).setLong(12, after.seqNr())))
        .thenApply(rs -> null);
  }

  /**
   * Up to {@code limit} devices listed at risk in {@code bucket} of {@code stage} scoring at least
   * {@code minScore}, highest first (then by device id).
   */
  public CompletionStage<List<JourneyRow>> riskPage(String stage, int bucket, int minScore, int limit) {
    return session.executeAsync(riskPage.bind(stage, bucket, minScore, limit).setPageSize(limit + 1)).thenApply(rs -> {
      List<JourneyRow> rows = new ArrayList<>(limit);
      for (Row row : rs.currentPage()) {
        rows.add(new JourneyRow(row.getString("device_id"), row.getString("customer_id"), row.getString("site_id"), row.getString("model"),
            row.getString("stage"), null, null, null, false, row.getInt("risk_score"), row.getString("risk_factors"),
            row.getInstant("risk_at"), 0));
      }
      return rows;
    });
  }

  /** A slice's funnel as last saved, or an empty one. */
  public CompletionStage<FunnelSlice> funnelSlice(int slice) {
    return session.executeAsync(readFunnel.bind(slice)).thenApply(rs -> {
      Row row = rs.one();
      if (row == null) {
        return FunnelSlice.empty();
      }
      return new FunnelSlice(
          Objects.requireNonNullElse(row.get("counts", COUNTS), Map.of()),
          Objects.requireNonNullElse(row.get("claim_to_activation", HISTOGRAMS), Map.of()),
          row.getString("pending"));
    });
  }

  /** Saves a slice's funnel, and the rows written with it, in one write. */
  public CompletionStage<Void> saveFunnelSlice(int slice, FunnelSlice funnel) {
    return session.executeAsync(writeFunnel.bind(slice, funnel.counts(), funnel.claimToActivation(), funnel.pending()))
        .thenApply(rs -> null);
  }

  /** Every slice's funnel, slices {@code 0} to {@code slices - 1}. */
  public CompletionStage<List<FunnelSlice>> funnelSlices(int slices) {
    List<CompletableFuture<FunnelSlice>> reads = new ArrayList<>(slices);
    for (int i = 0; i < slices; i++) {
      reads.add(funnelSlice(i).toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(done -> reads.stream().map(CompletableFuture::join).toList());
  }

  /** Up to {@code limit} devices listed in {@code bucket} of {@code stage} after {@code afterDeviceId} ("" for the start), in id order. */
  public CompletionStage<List<JourneyRow>> stagePage(String stage, int bucket, String afterDeviceId, int limit) {
    return page(stagePage.bind(stage, bucket, afterDeviceId, limit), limit);
  }

  /** Up to {@code limit} devices at {@code siteId} after {@code afterDeviceId} ("" for the start), in id order. */
  public CompletionStage<List<JourneyRow>> sitePage(String siteId, String afterDeviceId, int limit) {
    return page(sitePage.bind(siteId, afterDeviceId, limit), limit);
  }

  private CompletionStage<List<JourneyRow>> page(BoundStatement statement, int limit) {
    return session.executeAsync(statement.setPageSize(limit + 1)).thenApply(rs -> {
      List<JourneyRow> rows = new ArrayList<>(limit);
      for (Row row : rs.currentPage()) {
        rows.add(journeyRow(row, 0));
      }
      return rows;
    });
  }

  private CompletableFuture<?> execute(BoundStatement statement) {
    return session.executeAsync(statement).toCompletableFuture();
  }

  /**
   * Binds the row's columns in {@link #COLUMNS} order from position {@code first}; a null stays
   * unset (no tombstone; these columns never go back to null).
   */
  private static BoundStatement bind(BoundStatement s, int first, JourneyRow r) {
    Object[] values = {r.deviceId(), r.customerId(), r.siteId(), r.model(), r.stage(), r.stageSince(), r.claimedAt(), r.activatedAt()};
    BoundStatement bound = s;
    for (int i = 0; i < values.length; i++) {
      if (values[i] instanceof String text) {
        bound = bound.setString(first + i, text);
      } else if (values[i] instanceof Instant at) {
        bound = bound.setInstant(first + i, at);
      }
    }
    return bound.setBoolean(first + values.length, r.decommissioned());
  }

  /** Binds the risk columns from position {@code first}; no risk stays unset. */
  private static BoundStatement bindRisk(BoundStatement s, int first, JourneyRow r) {
    BoundStatement bound = s.setInt(first, r.riskScore());
    if (r.riskFactors() != null) {
      bound = bound.setString(first + 1, r.riskFactors());
    }
    return r.riskAt() == null ? bound : bound.setInstant(first + 2, r.riskAt());
  }

  /** A row of device_journeys (with the risk) or of a listing by stage or site (without). */
  private static JourneyRow journeyRow(Row row, long seqNr) {
    boolean risk = row.getColumnDefinitions().contains("risk_score");
    return new JourneyRow(row.getString("device_id"), row.getString("customer_id"), row.getString("site_id"), row.getString("model"),
        row.getString("stage"), row.getInstant("stage_since"), row.getInstant("claimed_at"), row.getInstant("activated_at"),
        row.getBoolean("decommissioned"), risk ? row.getInt("risk_score") : 0, risk ? row.getString("risk_factors") : null,
        risk ? row.getInstant("risk_at") : null, seqNr);
  }
}
