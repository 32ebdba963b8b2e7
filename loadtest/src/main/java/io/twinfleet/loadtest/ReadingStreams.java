package io.twinfleet.loadtest;

import com.google.protobuf.util.Timestamps;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.BatchAck;
import io.twinfleet.protocol.v1.Reading;
import io.twinfleet.protocol.v1.ReadingBatch;
import io.twinfleet.protocol.v1.Rejection;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Readings on their way to the service over a few long-lived {@code ReportStream}s, one per
 * connection. Readings are batched per stream; at most {@code inFlight} batches per stream wait
 * for their ack, and a full window blocks the sender, which is how the service's backpressure
 * reaches the simulator. A stream that fails is reopened after a second on the next connection (to
 * the next node, when the connections go to several) and its unacknowledged batches are sent again
 * (readings are idempotent), so a restart of the service, or the death of a node, loses nothing. A
 * reading the service refused with UNAVAILABLE ("safe to resend": its twin did not answer in time,
 * say while its node is replaced, or Cassandra is away) goes out again with the first batch after
 * half a second, up to {@value #UNAVAILABLE_ATTEMPTS} times in all, as a gateway with a buffer
 * would: enough to ride out the minute a cluster takes to replace a dead node (each attempt then
 * waits for the ask timeout) or a minute without Cassandra (refused at once). One refused with
 * RESOURCE_EXHAUSTED (the node was full, or the device over its rate) goes out again with the first
 * batch after its retry_after, up to {@value #READING_ATTEMPTS} times in all. One thread
 * sends; acks arrive on gRPC's threads.
 */
final class ReadingStreams implements AutoCloseable {

  private static final int MAX_ATTEMPTS = 5;
  private static final int READING_ATTEMPTS = 10;
  private static final int UNAVAILABLE_ATTEMPTS = 120;
  private static final long UNAVAILABLE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final List<Lane> lanes = new ArrayList<>();
  private final int batchSize;
  private final RunStats stats;
  private final ServiceTime time;
  private final ScheduledExecutorService reopener = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "stream-reopener");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param headers sent with every stream, e.g. {@code twinfleet-sink: baseline}; may be null
   */
  ReadingStreams(List<ManagedChannel> channels, int batchSize, int inFlight, Metadata headers, RunStats stats, ServiceTime time) {
    this.batchSize = batchSize;
    this.stats = stats;
    this.time = time;
    List<TelemetryServiceGrpc.TelemetryServiceStub> stubs = new ArrayList<>();
    for (ManagedChannel c : channels) {
      TelemetryServiceGrpc.TelemetryServiceStub stub = TelemetryServiceGrpc.newStub(c);
      stubs.add(headers == null ? stub : stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)));
    }
    for (int i = 0; i < stubs.size(); i++) {
      lanes.add(new Lane(stubs, i, inFlight));
    }
  }

  int count() {
    return lanes.size();
  }

  /** Adds a reading to stream {@code stream}'s batch, sending it when full (may block). */
  void add(int stream, Reading reading) throws InterruptedException {
    lanes.get(stream).add(reading, 1);
  }

  /** Sends every partly filled batch, with the readings to resend (may block). */
  void flush() throws InterruptedException {
    for (Lane lane : lanes) {
      long now = System.nanoTime();
      List<Retry> later = new ArrayList<>();
      for (Retry r; (r = lane.retries.poll()) != null; ) {
        if (r.notBeforeNanos() - now > 0) {
          later.add(r);
        } else {
          lane.add(r.reading(), r.attempt());
        }
      }
      lane.retries.addAll(later);
      if (lane.batch.getReadingsCount() > 0) {
        lane.send();
      }
    }
  }

  /**
   * Waits until every batch sent has its ack and every reading to resend went out again and has
   * its ack too, or {@code timeout} passed; true if all are in.
   */
  boolean awaitAcks(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (lanes.stream().allMatch(l -> l.unacked.isEmpty() && l.retries.isEmpty())) {
        return true;
      }
      flush();
      Thread.sleep(20);
    }
    return false;
  }

  /**
   * A mark after everything added to stream {@code stream} so far, for {@link #settled}: the id of
   * the batch being filled, plus one.
   */
  long mark(int stream) {
    return lanes.get(stream).nextBatchId + 1;
  }

  /** Whether everything added to {@code stream} before {@code mark} was sent and answered for good. */
  boolean settled(int stream, long mark) {
    Lane lane = lanes.get(stream);
    if (lane.nextBatchId < mark || !lane.retries.isEmpty()) {
      return false;
    }
    Map.Entry<Long, Pending> oldest = lane.unacked.firstEntry();
    return oldest == null || oldest.getKey() >= mark;
  }

  @Override
  public void close() {
    for (Lane lane : lanes) {
      lane.close();
    }
    reopener.shutdownNow();
  }

  private record Pending(ReadingBatch batch, long sentNanos, int[] attempts) {}

  private record Retry(Reading reading, int attempt, long notBeforeNanos) {}

  /**
   * One ReportStream: its open call, its window and the batches it still owes acks for. It starts
   * on its own connection and moves to the next one each time its stream fails.
   */
  private final class Lane {
    final List<TelemetryServiceGrpc.TelemetryServiceStub> stubs;
    int connection;
    final Semaphore window;
    final int inFlight;
    final ConcurrentSkipListMap<Long, Pending> unacked = new ConcurrentSkipListMap<>();
    final Queue<Retry> retries = new ConcurrentLinkedQueue<>();
    ReadingBatch.Builder batch = ReadingBatch.newBuilder();
    int[] attempts = new int[batchSize];
    volatile long nextBatchId;
    StreamObserver<ReadingBatch> out;
    int failures;
    boolean closed;

    Lane(List<TelemetryServiceGrpc.TelemetryServiceStub> stubs, int connection, int inFlight) {
      this.stubs = stubs;
      this.connection = connection;
      this.inFlight = inFlight;
      this.window = new Semaphore(inFlight);
    }

    void add(Reading reading, int attempt) throws InterruptedException {
      attempts[batch.getReadingsCount()] = attempt;
      batch.addReadings(reading);
      if (batch.getReadingsCount() >= batchSize) {
        send();
      }
    }

    void send() throws InterruptedException {
      ReadingBatch b = batch.setBatchId(nextBatchId++).build();
      int[] sentAttempts = Arrays.copyOf(attempts, b.getReadingsCount());
      batch = ReadingBatch.newBuilder();
      window.acquire(); // outside the lock: an ack or a reopen may need it meanwhile
      synchronized (this) {
        unacked.put(b.getBatchId(), new Pending(b, System.nanoTime(), sentAttempts));
        stats.readingsSent.add(b.getReadingsCount());
        if (out == null) {
          open();
        }
        out.onNext(b);
      }
    }

    /** Opens a call and sends the unacknowledged batches on it again, oldest first. */
    private void open() {
      StreamObserver<BatchAck> responses = new StreamObserver<>() {
        @Override
        public void onNext(BatchAck ack) {
          acked(ack);
        }

        @Override
        public void onError(Throwable t) {
          failed(this, Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {}
      };
      current = responses;
      out = stubs.get(connection).reportStream(responses);
      for (Pending p : unacked.values()) {
        out.onNext(p.batch());
      }
    }

    /** The response observer of the open call; a failure of an older call is stale. */
    private StreamObserver<BatchAck> current;

    private void acked(BatchAck ack) {
      Pending p = unacked.remove(ack.getBatchId());
      if (p == null) {
        return; // an ack for a batch sent twice
      }
      synchronized (this) {
        failures = 0;
      }
      stats.ackLatency.recordValue(Math.max(1, (System.nanoTime() - p.sentNanos()) / 1000));
      // how late each reading (a resent one, say) reached its twin, at most
      long now = time.nowMillis();
      for (Reading r : p.batch().getReadingsList()) {
        stats.delivered(r.getDeviceId(), now - Timestamps.toMillis(r.getObservedAt()));
      }
      stats.readingsAccepted.add(ack.getAccepted());
      if (stats.watching()) {
        BitSet refused = new BitSet();
        ack.getRejectionsList().forEach(r -> refused.set(r.getIndex()));
        long at = System.nanoTime();
        for (int i = refused.nextClearBit(0); i < p.batch().getReadingsCount(); i = refused.nextClearBit(i + 1)) {
          stats.accepted(p.batch().getReadings(i).getDeviceId(), at);
        }
      }
      for (Rejection r : ack.getRejectionsList()) {
        int attempt = p.attempts()[r.getIndex()];
        boolean unavailable = r.getCode().equals("UNAVAILABLE");
        boolean again = unavailable ? attempt < UNAVAILABLE_ATTEMPTS : r.getCode().equals("RESOURCE_EXHAUSTED") && attempt < READING_ATTEMPTS;
        if (again) {
          stats.readingsResent.increment();
          long wait = unavailable ? UNAVAILABLE_PAUSE_NANOS
              : com.google.protobuf.util.Durations.toNanos(r.getRetryAfter()); // not this package's Durations
          retries.add(new Retry(p.batch().getReadings(r.getIndex()), attempt + 1, System.nanoTime() + wait));
        } else {
          stats.error("reading", r.getCode(), r.getDeviceId() + ": " + r.getMessage());
        }
      }
      window.release();
    }

    private void failed(StreamObserver<BatchAck> observer, Status status) {
      synchronized (this) {
        if (closed || observer != current) {
          return;
        }
        stats.error("ReportStream", status.getCode().name(), status.getDescription());
        out = null;
        current = null;
        connection = (connection + 1) % stubs.size();
        if (++failures >= MAX_ATTEMPTS) {
          // give up on what is pending rather than block the simulation for ever
          int lost = 0;
          for (Pending p : unacked.values()) {
            lost += p.batch().getReadingsCount();
          }
          unacked.clear();
          window.release(inFlight - window.availablePermits());
          stats.error("reading", "LOST_AFTER_" + MAX_ATTEMPTS + "_STREAM_FAILURES", lost + " readings");
          failures = 0;
          return;
        }
      }
      reopener.schedule(() -> {
        synchronized (this) {
          if (!closed && out == null && !unacked.isEmpty()) {
            open();
          }
        }
      }, 1, TimeUnit.SECONDS);
    }

    synchronized void close() {
      closed = true;
      if (out != null) {
        out.onCompleted();
        out = null;
      }
    }
  }
}
