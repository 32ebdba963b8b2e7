package io.twinfleet.loadtest.baseline;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The "storage alone" baseline of the load test: raw asynchronous inserts through the Cassandra
 * driver into a copy of the event journal's {@code messages} table, with nothing of Twinfleet in
 * between (no gRPC, no actors, no serialization, no Pekko Persistence batching).
 *
 * <p>Why it exists: an absolute rate of persisted commands means little on its own, because it
 * depends mostly on the machine (cores, disk, whatever else runs there) and on the Cassandra node.
 * Measured on the same machine against the same node, this baseline tells what storage alone
 * allows there, so Twinfleet's persisted-command rate can be reported as a ratio of it ("x% of
 * what raw inserts reach"), which stays comparable across machines and shows how much the service
 * itself costs on top of the journal writes it cannot avoid.
 *
 * <p>The rows are made to cost what the journal's rows cost: the same columns (those the plugin
 * writes for an event without metadata), a timeuuid, a time bucket in the plugin's format, one tag
 * and an event of the size a device event has when CBOR-serialized. Writes use QUORUM, as the
 * plugin's journal profile does (with one replica that is the same as ONE).
 *
 * <p>It writes to its own keyspace, {@value #KEYSPACE}, never to the service's, so it cannot
 * disturb a journal; the keyspace is truncated before each run and can be dropped with
 * {@link #dropKeyspace}.
 */
public final class CassandraInsertBaseline {

  /**
   * A throwaway benchmark keyspace: SimpleStrategy with one replica, because it only has to exist
   * for the length of a run on the node under test, and holds nothing anybody needs afterwards.
   */
  public static final String KEYSPACE = "twinfleet_baseline";

  /** Distinct persistence ids the rows rotate over: many partitions, as a fleet of twins has. */
  private static final int PERSISTENCE_IDS = 100_000;
  /** Distinct tags, so that the tags column holds the few repeated values real events carry. */
  private static final int TAGS = 4;
  /** About what one device event takes when serialized with Jackson CBOR. */
  private static final int EVENT_BYTES = 120;
  /** Pekko's identifier of its Jackson CBOR serializer, what the journal's rows carry. */
  private static final int CBOR_SERIALIZER_ID = 33;
  /** The plugin's default events-by-tag bucket size, one hour, in milliseconds. */
  private static final long BUCKET_MILLIS = TimeUnit.HOURS.toMillis(1);

  private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** How long the issuing loop waits for a free slot before it looks at the clock again. */
  private static final long SLOT_WAIT_MILLIS = 50;
  /**
   * Schema changes and TRUNCATE (which flushes and snapshots on every replica) take far longer than
   * an insert, especially on a busy 2-core machine, so they get their own generous timeout.
   */
  private static final Duration SCHEMA_TIMEOUT = Duration.ofSeconds(60);
  /**
   * Every request ends by the driver's request timeout at the latest, so in-flight inserts are
   * answered well within this; it only guards against waiting forever on a broken driver.
   */
  private static final Duration DRAIN_TIMEOUT = Duration.ofMinutes(2);

  /**
   * What a run measured. {@code inserts} counts acknowledged inserts only; {@code seconds} runs
   * from the first insert issued to the last one answered; latencies are of acknowledged inserts,
   * from just before the driver was handed the insert to its acknowledgement.
   */
  public record Result(long inserts, double seconds, double insertsPerSecond, double p50Millis,
      double p99Millis, double maxMillis, long errors) {
  }

  private CassandraInsertBaseline() {
  }

  /**
   * Creates the keyspace and table if absent, empties the table, then inserts for {@code duration}
   * with {@code concurrency} inserts always in flight, and waits for the last of them.
   *
   * <p>Nothing here warms up: on a node and a JVM that have just started, the first seconds run
   * several times slower than steady state (on a 2-core machine, 2 s runs back to back went from
   * about 2,000 to 28,000 inserts/s). For a number to compare with, run it once to warm up and
   * report a second, longer run, as the service's own benchmark does with its warm-up.
   *
   * @param progress called with the number of acknowledged inserts about once per second, and once
   *     more at the end, always on the calling thread
   * @throws InterruptedException if the calling thread is interrupted; inserts already handed to
   *     the driver may still complete afterwards
   */
  public static Result run(CqlSession session, Duration duration, int concurrency, LongConsumer progress)
      throws InterruptedException {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(progress, "progress");
    if (duration == null || duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("duration must be positive, was " + duration);
    }
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
    }
    createSchema(session);
    // Reruns start from an empty table, so the table (and the work compaction does on it) does
    // not grow from run to run and skew later results.
    ddl(session, "TRUNCATE " + KEYSPACE + ".messages");

    PreparedStatement insert = session.prepare(SimpleStatement.newInstance(
        "INSERT INTO " + KEYSPACE + ".messages (persistence_id, partition_nr, sequence_nr, timestamp,"
            + " timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event, tags)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .setConsistencyLevel(ConsistencyLevel.QUORUM)
        // Every row has its own key, so a retried insert rewrites the same row: safe to retry, as
        // the plugin declares for its journal writes too.
        .setIdempotent(true));

    // One writer for the whole run, as one journal plugin instance has.
    String writerUuid = UUID.randomUUID().toString();
    // Random bytes stand in for the event; they compress worse than real CBOR would, which makes
    // the baseline, if anything, a little pessimistic.
    byte[] eventBytes = new byte[EVENT_BYTES];
    ThreadLocalRandom.current().nextBytes(eventBytes);
    ByteBuffer event = ByteBuffer.wrap(eventBytes).asReadOnlyBuffer();
    List<Set<String>> tags = IntStream.range(0, TAGS)
        .mapToObj(i -> Set.of("device-" + i)).toList();

    // Completions arrive on the driver's I/O threads, so everything they touch is lock-free.
    Histogram latencyMicros = new ConcurrentHistogram(3);
    LongAdder inserts = new LongAdder();
    LongAdder errors = new LongAdder();
    Semaphore slots = new Semaphore(concurrency);
    // The first timeuuid makes the driver work out this host's node id, once; not on the clock.
    Uuids.timeBased();

    long start = System.nanoTime();
    long deadline = start + duration.toNanos();
    long nextProgress = start + PROGRESS_INTERVAL_NANOS;
    long n = 0;
    while (true) {
      long now = System.nanoTime();
      if (now - deadline >= 0) {
        break;
      }
      if (now - nextProgress >= 0) {
        progress.accept(inserts.sum());
        // From now rather than from the previous tick: after a stall, no burst of catch-up calls.
        nextProgress = now + PROGRESS_INTERVAL_NANOS;
      }
      // A bounded wait, so that a stalled node cannot hold the loop past its deadline or its
      // progress ticks.
      if (!slots.tryAcquire(SLOT_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        continue;
      }
      UUID timestamp = Uuids.timeBased();
      long bucket = Uuids.unixTimestamp(timestamp) / BUCKET_MILLIS * BUCKET_MILLIS;
      long issuedAt = System.nanoTime();
      session.executeAsync(insert.bind(
              "baseline-" + n % PERSISTENCE_IDS,
              0L,
              n / PERSISTENCE_IDS + 1,
              timestamp,
              // The plugin stores the bucket's start in epoch milliseconds, as decimal text.
              Long.toString(bucket),
              writerUuid,
              CBOR_SERIALIZER_ID,
              "",
              "",
              event.duplicate(),
              tags.get((int) (n % TAGS))))
          // Runs on a driver thread: record and free the slot, never block here.
          .whenComplete((rows, failure) -> {
            if (failure == null) {
              latencyMicros.recordValue((System.nanoTime() - issuedAt) / 1_000);
              inserts.increment();
            } else {
              errors.increment();
            }
            slots.release();
          });
      n++;
    }

    // Issuing has stopped; holding every slot means every insert has been answered.
    if (!slots.tryAcquire(concurrency, DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException((concurrency - slots.availablePermits())
          + " inserts still unanswered " + DRAIN_TIMEOUT.toSeconds() + " s after the run ended");
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long done = inserts.sum();
    progress.accept(done);
    return new Result(done, seconds, done / seconds,
        millis(latencyMicros.getValueAtPercentile(50)),
        millis(latencyMicros.getValueAtPercentile(99)),
        millis(latencyMicros.getMaxValue()),
        errors.sum());
  }

  /** Drops the benchmark keyspace and everything in it; does nothing if it does not exist. */
  public static void dropKeyspace(CqlSession session) {
    ddl(session, "DROP KEYSPACE IF EXISTS " + KEYSPACE);
  }

  private static void createSchema(CqlSession session) {
    ddl(session, "CREATE KEYSPACE IF NOT EXISTS " + KEYSPACE
        + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    // Column for column and option for option the journal's messages table, as in
    // persistence/src/main/resources/io/twinfleet/persistence/schema/01-journal.cql: rows of the
    // same shape in a table of the same layout cost Cassandra the same to write.
    ddl(session, """
        CREATE TABLE IF NOT EXISTS %s.messages (
          persistence_id text,
          partition_nr bigint,
          sequence_nr bigint,
          timestamp timeuuid,
          timebucket text,
          writer_uuid text,
          ser_id int,
          ser_manifest text,
          event_manifest text,
          event blob,
          meta_ser_id int,
          meta_ser_manifest text,
          meta blob,
          tags set<text>,
          PRIMARY KEY ((persistence_id, partition_nr), sequence_nr, timestamp))
          WITH gc_grace_seconds = 864000
          AND compaction = {'class': 'SizeTieredCompactionStrategy'}
        """.formatted(KEYSPACE));
  }

  private static void ddl(CqlSession session, String cql) {
    session.execute(SimpleStatement.newInstance(cql).setTimeout(SCHEMA_TIMEOUT));
  }

  private static double millis(long micros) {
    return micros / 1_000.0;
  }
}
