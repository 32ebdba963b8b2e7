package io.twinfleet.persistence.readmodel;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The {@code stage_milestones} schedule: when each device's coming journey milestones fall due, in
 * partitions of one hour and one of {@link #BUCKETS} buckets of device ids, and how far the
 * scheduler has worked through them. Writes are idempotent upserts, so a projection may replay.
 */
public final class StageMilestonesRepository {

  /** Buckets per hour: a partition holds about 1/16 of the milestones falling due in its hour. */
  public static final int BUCKETS = 16;

  /** A milestone of a device. */
  public record Milestone(Instant due, String deviceId) {}

  private final CqlSession session;
  private final PreparedStatement schedule;
  private final PreparedStatement dueBetween;
  private final PreparedStatement readProgress;
  private final PreparedStatement writeProgress;

  public StageMilestonesRepository(CqlSession session, String keyspace) {
    this.session = session;
    String table = keyspace + ".stage_milestones";
    schedule = session.prepare("INSERT INTO " + table + " (due_hour, bucket, due, device_id) VALUES (?, ?, ?, ?)");
    dueBetween = session.prepare("SELECT due, device_id FROM " + table + " WHERE due_hour = ? AND bucket = ? AND due > ? AND due <= ?");
    String progress = keyspace + ".stage_milestone_progress";
    readProgress = session.prepare("SELECT done_until FROM " + progress + " WHERE scheduler = ?");
    writeProgress = session.prepare("INSERT INTO " + progress + " (scheduler, done_until) VALUES (?, ?)");
  }

  /** The hour partition a due time falls in. */
  public static Instant hourOf(Instant due) {
    return due.truncatedTo(ChronoUnit.HOURS);
  }

  static int bucketOf(String deviceId) {
    return Math.floorMod(deviceId.hashCode(), BUCKETS);
  }

  /** Schedules the milestones {@code due} of {@code deviceId}; scheduling one again changes nothing. */
  public CompletionStage<Void> schedule(String deviceId, List<Instant> due) {
    CompletableFuture<?>[] writes = new CompletableFuture<?>[due.size()];
    for (int i = 0; i < due.size(); i++) {
      Instant d = due.get(i);
      writes[i] = session.executeAsync(schedule.bind(hourOf(d), bucketOf(deviceId), d, deviceId)).toCompletableFuture();
    }
    return CompletableFuture.allOf(writes);
  }

  /**
   * Hands {@code each} the milestones due after {@code after} and at or before {@code until}, both
   * within the hour {@code hour}, from every bucket, a page at a time and in no particular order;
   * completes with how many there were.
   */
  public CompletionStage<Integer> forEachDue(Instant hour, Instant after, Instant until, Consumer<Milestone> each) {
    List<CompletableFuture<Integer>> buckets = new ArrayList<>(BUCKETS);
    for (int b = 0; b < BUCKETS; b++) {
      CompletableFuture<Integer> count = new CompletableFuture<>();
      session.executeAsync(dueBetween.bind(hour, b, after, until)).whenComplete((rs, error) -> drain(rs, error, each, 0, count));
      buckets.add(count);
    }
    return CompletableFuture.allOf(buckets.toArray(CompletableFuture[]::new))
        .thenApply(done -> buckets.stream().mapToInt(CompletableFuture::join).sum());
  }

  private static void drain(AsyncResultSet rs, Throwable error, Consumer<Milestone> each, int seen, CompletableFuture<Integer> count) {
    if (error != null) {
      count.completeExceptionally(error);
      return;
    }
    int n = seen;
    for (Row row : rs.currentPage()) {
      each.accept(new Milestone(row.getInstant("due"), row.getString("device_id")));
      n++;
    }
    if (rs.hasMorePages()) {
      int soFar = n;
      rs.fetchNextPage().whenComplete((next, e) -> drain(next, e, each, soFar, count));
    } else {
      count.complete(n);
    }
  }

  /** How far {@code scheduler} has handed milestones out, if it ever has. */
  public CompletionStage<Optional<Instant>> progress(String scheduler) {
    return session.executeAsync(readProgress.bind(scheduler))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(row -> row.getInstant("done_until")));
  }

  public CompletionStage<Void> saveProgress(String scheduler, Instant doneUntil) {
    return session.executeAsync(writeProgress.bind(scheduler, doneUntil)).thenApply(rs -> null);
  }
}
