package io.twinfleet.loadtest;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.twinfleet.protocol.v1.Reading;
import java.time.Duration;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Heartbeats as fast as the service acknowledges them, for the ingest ceiling and its baseline:
 * round robin over the given devices, batched over the given streams, each stream with its window
 * of batches in flight. The same readings go to the twins or, with the header {@code
 * twinfleet-sink: baseline}, to an entity that does nothing.
 */
final class Flood {

  static final Metadata BASELINE_SINK = new Metadata();

  static {
    BASELINE_SINK.put(Metadata.Key.of("twinfleet-sink", Metadata.ASCII_STRING_MARSHALLER), "baseline");
  }

  /** Readings acknowledged per second and ack latency of one flood. */
  record Result(long accepted, double seconds, double perSecond, double ackP50Millis, double ackP99Millis, java.util.Map<String, Long> errors) {}

  private Flood() {}

  /**
   * Floods {@code deviceIds} for {@code warmup} (not measured), then for {@code length}.
   *
   * @param headers null for the twins, {@link #BASELINE_SINK} for the no-op entity
   */
  static Result run(List<ManagedChannel> channels, String[] deviceIds, ServiceTime time, Duration warmup, Duration length,
      int batch, int inFlight, Metadata headers) throws InterruptedException {
    RunStats stats = new RunStats();
    long accepted0 = 0;
    long start = 0;
    boolean measuring = false;
    try (ReadingStreams streams = new ReadingStreams(channels, batch, inFlight, headers, stats, time)) {
      long warmEnd = System.nanoTime() + warmup.toNanos();
      long end = warmEnd + length.toNanos();
      int next = 0;
      long now = System.nanoTime();
      while (now < end) {
        if (!measuring && now >= warmEnd) {
          streams.awaitAcks(Duration.ofSeconds(30));
          measuring = true;
          accepted0 = stats.readingsAccepted.sum();
          stats.ackLatency.reset();
          start = System.nanoTime();
        }
        long t = time.nowMillis();
        Timestamp ts = Timestamps.fromMillis(t);
        for (int s = 0; s < streams.count(); s++) {
          for (int k = 0; k < batch; k++) {
            streams.add(s, Reading.newBuilder().setDeviceId(deviceIds[next]).setObservedAt(ts).build());
            next = next + 1 < deviceIds.length ? next + 1 : 0;
          }
        }
        now = System.nanoTime();
      }
      streams.flush();
      streams.awaitAcks(Duration.ofSeconds(30));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long accepted = stats.readingsAccepted.sum() - accepted0;
    Histogram acks = stats.ackLatency.getIntervalHistogram();
    return new Result(accepted, seconds, accepted / seconds, RunStats.millis(acks, 50), RunStats.millis(acks, 99), stats.errors());
  }
}
