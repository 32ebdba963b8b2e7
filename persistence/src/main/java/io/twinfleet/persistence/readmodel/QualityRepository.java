package io.twinfleet.persistence.readmodel;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The fleet quality read models: {@code quality_slices}, {@code quality_hours} (per slice and
 * day), {@code quality_open} (per slice) and {@code quality_devices}. Every write is an upsert of
 * absolute values, so writing the same rows again changes nothing.
 */
public final class QualityRepository {

  /** A slice: devices per "DIMENSION|value", on-line and working devices, and the rows written with them (or null). */
  public record SliceRow(Map<String, Long> members, long online, long working, String pending) {
    public static SliceRow empty() {
      return new SliceRow(Map.of(), 0, 0, null);
    }
  }

  /** One hour of one value. */
  public record HourRow(Instant hour, String dimension, String value, long enter, long leave, long enterPartialMillis,
      long leavePartialMillis, long offlineMillis) {}

  /** The open episodes of one value that opened in one hour. */
  public record OpenRow(Instant hour, String dimension, String value, long count, long sinceSumMillis) {}

  /** A device's stored state and the last event it applied. */
  public record DeviceRow(String state, long seqNr) {}

  private final CqlSession session;
  private final PreparedStatement readSlice;
  private final PreparedStatement writeSlice;
  private final PreparedStatement readDay;
  private final PreparedStatement writeHour;
  private final PreparedStatement readOpen;
  private final PreparedStatement writeOpen;
  private final PreparedStatement readDevice;
  private final PreparedStatement writeDevice;

  public QualityRepository(CqlSession session, String keyspace) {
    this.session = session;
    readSlice = prepare("SELECT members, online, working, pending FROM " + keyspace + ".quality_slices WHERE slice = ?");
    writeSlice = prepare("INSERT INTO " + keyspace + ".quality_slices (slice, members, online, working, pending) VALUES (?, ?, ?, ?, ?)");
    readDay = prepare("SELECT hour, dimension, value, enter, leave, enter_partial_ms, leave_partial_ms, offline_ms FROM " + keyspace
        + ".quality_hours WHERE slice = ? AND day = ?");
    writeHour = prepare("INSERT INTO " + keyspace + ".quality_hours (slice, day, hour, dimension, value, enter, leave, enter_partial_ms,"
        + " leave_partial_ms, offline_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    readOpen = prepare("SELECT hour, dimension, value, count, since_sum_ms FROM " + keyspace + ".quality_open WHERE slice = ?");
    writeOpen = prepare("INSERT INTO " + keyspace + ".quality_open (slice, hour, dimension, value, count, since_sum_ms) VALUES (?, ?, ?, ?, ?, ?)");
    readDevice = prepare("SELECT state, seq_nr FROM " + keyspace + ".quality_devices WHERE device_id = ?");
    writeDevice = prepare("INSERT INTO " + keyspace + ".quality_devices (device_id, state, seq_nr) VALUES (?, ?, ?)");
  }

  /** A quorum of replicas: a slice reads back what it wrote. */
  private PreparedStatement prepare(String cql) {
    return session.prepare(SimpleStatement.newInstance(cql).setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM));
  }

  public static LocalDate dayOf(Instant hour) {
    return LocalDate.ofInstant(hour, ZoneOffset.UTC);
  }

  public CompletionStage<SliceRow> slice(int slice) {
    return session.executeAsync(readSlice.bind(slice)).thenApply(rs -> {
      Row row = rs.one();
      return row == null ? SliceRow.empty()
          : new SliceRow(row.getMap("members", String.class, Long.class), row.getLong("online"), row.getLong("working"), row.getString("pending"));
    });
  }

  public CompletionStage<Void> storeSlice(int slice, SliceRow row) {
    return session.executeAsync(writeSlice.bind(slice, row.members(), row.online(), row.working(), row.pending())).thenApply(rs -> null);
  }

  /** Every hour row of a slice's day. */
  public CompletionStage<List<HourRow>> day(int slice, LocalDate day) {
    List<HourRow> rows = new ArrayList<>();
    return all(session.executeAsync(readDay.bind(slice, day)), row -> rows.add(new HourRow(row.getInstant("hour"), row.getString("dimension"),
        row.getString("value"), row.getLong("enter"), row.getLong("leave"), row.getLong("enter_partial_ms"), row.getLong("leave_partial_ms"),
        row.getLong("offline_ms")))).thenApply(done -> rows);
  }

  public CompletionStage<List<OpenRow>> open(int slice) {
    List<OpenRow> rows = new ArrayList<>();
    return all(session.executeAsync(readOpen.bind(slice)), row -> rows.add(new OpenRow(row.getInstant("hour"), row.getString("dimension"),
        row.getString("value"), row.getLong("count"), row.getLong("since_sum_ms")))).thenApply(done -> rows);
  }

  /** Stores hour rows, open rows and device rows, in parallel. */
  public CompletionStage<Void> store(int slice, Collection<HourRow> hours, Collection<OpenRow> open, Map<String, DeviceRow> devices) {
    List<CompletableFuture<?>> writes = new ArrayList<>(hours.size() + open.size() + devices.size());
    for (HourRow h : hours) {
      writes.add(session.executeAsync(writeHour.bind(slice, dayOf(h.hour()), h.hour(), h.dimension(), h.value(), h.enter(), h.leave(),
          h.enterPartialMillis(), h.leavePartialMillis(), h.offlineMillis())).toCompletableFuture());
    }
    for (OpenRow o : open) {
      writes.add(session.executeAsync(writeOpen.bind(slice, o.hour(), o.dimension(), o.value(), o.count(), o.sinceSumMillis())).toCompletableFuture());
    }
    for (Map.Entry<String, DeviceRow> d : devices.entrySet()) {
      writes.add(session.executeAsync(writeDevice.bind(d.getKey(), d.getValue().state(), d.getValue().seqNr())).toCompletableFuture());
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
  }

  /** The stored rows of those of {@code deviceIds} that have one, read in parallel. */
  public CompletionStage<Map<String, DeviceRow>> devices(Collection<String> deviceIds) {
    return KeyedReads.read(session, readDevice, deviceIds, row -> new DeviceRow(row.getString("state"), row.getLong("seq_nr")));
  }

  private static CompletionStage<Void> all(CompletionStage<AsyncResultSet> first, java.util.function.Consumer<Row> each) {
    return first.thenCompose(rs -> {
      for (Row row : rs.currentPage()) {
        each.accept(row);
      }
      return rs.hasMorePages() ? all(rs.fetchNextPage(), each) : CompletableFuture.completedFuture(null);
    });
  }
}
