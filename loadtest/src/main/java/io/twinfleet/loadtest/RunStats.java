package io.twinfleet.loadtest;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/** Counters and latency recorders a run shares between its threads. */
public final class RunStats {

  /** Batch ack latency, microseconds. */
  final Recorder ackLatency = new Recorder(3);
  /** GetDevice latency during ingest, microseconds. */
  final Recorder getLatency = new Recorder(3);
  final LongAdder readingsSent = new LongAdder();
  final LongAdder readingsAccepted = new LongAdder();
  /** Readings the service refused as UNAVAILABLE and that were sent again. */
  final LongAdder readingsResent = new LongAdder();
  final LongAdder registered = new LongAdder();
  final LongAdder claimed = new LongAdder();
  final LongAdder decommissioned = new LongAdder();
  final LongAdder retries = new LongAdder();
  /** The longest a reading took from its stamp to its acknowledgement, in simulated milliseconds. */
  final LongAccumulator deliveryDelay = new LongAccumulator(Math::max, 0);
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final Map<String, String> firstMessages = new ConcurrentHashMap<>();

  /** Counts an error of {@code what} (e.g. "reading", "RegisterDevice") with status {@code code}. */
  void error(String what, String code, String message) {
    String key = what + " " + code;
    errors.computeIfAbsent(key, k -> new LongAdder()).increment();
    if (message != null) {
      firstMessages.putIfAbsent(key, message);
    }
  }

  /** Errors by operation and status, in name order. */
  Map<String, Long> errors() {
    Map<String, Long> out = new TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  long errorCount() {
    return errors.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** The first message seen for each kind of error, to say what went wrong. */
  Map<String, String> firstMessages() {
    return new TreeMap<>(firstMessages);
  }

  static double millis(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }
}
