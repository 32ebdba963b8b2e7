package io.twinfleet.loadtest;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import io.twinfleet.loadtest.sim.Fleet;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/** Counters and latency recorders a run shares between its threads. */
public final class RunStats implements Referee.Deliveries {

  /** Batch ack latency, microseconds. */
  final Recorder ackLatency = new Recorder(3);
  /** GetDevice latency during ingest, microseconds. */
  final Recorder getLatency = new Recorder(3);
  final LongAdder readingsSent = new LongAdder();
  final LongAdder readingsAccepted = new LongAdder();
  /** Readings the service refused as UNAVAILABLE or RESOURCE_EXHAUSTED and that were sent again. */
  final LongAdder readingsResent = new LongAdder();
  final LongAdder registered = new LongAdder();
  final LongAdder claimed = new LongAdder();
  final LongAdder decommissioned = new LongAdder();
  final LongAdder retries = new LongAdder();
  /** The longest a reading took from its stamp to its acknowledgement, in simulated milliseconds. */
  final LongAccumulator deliveryDelay = new LongAccumulator(Math::max, 0);
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final Map<String, String> firstMessages = new ConcurrentHashMap<>();
  private final Fleet fleet;
  /** Per device of {@link #fleet}, the longest one of its readings took, in simulated milliseconds. */
  private final AtomicIntegerArray deviceDelivery;
  /** Per device of {@link #fleet}, its readings that took longer than its heartbeat interval. */
  private final AtomicIntegerArray lateReadings;

  /** Statistics of a run that does not follow single devices (a flood, say). */
  RunStats() {
    this(null);
  }

  /** Statistics of a run of {@code fleet}, also following each device's delivery delay. */
  RunStats(Fleet fleet) {
    this.fleet = fleet;
    this.deviceDelivery = new AtomicIntegerArray(fleet == null ? 0 : fleet.size());
    this.lateReadings = new AtomicIntegerArray(fleet == null ? 0 : fleet.size());
  }

  private final Map<Integer, Long> forgotten = new ConcurrentHashMap<>();

  /** Device {@code i}'s twin lost what only its memory held, up to {@code millis} (simulated) of sightings. */
  void forgot(int i, long millis) {
    forgotten.merge(i, millis, Math::max);
  }

  @Override
  public long forgotten(int i) {
    return forgotten.getOrDefault(i, 0L);
  }

  @Override
  public boolean unheardSinceForgetting(int i) {
    return forgotten.containsKey(i) && !firstAccepted.containsKey(fleet.deviceId(i));
  }

  private volatile Set<String> watched;
  private final Map<String, Long> firstAccepted = new ConcurrentHashMap<>();

  /** From now on, note when each of {@code devices} first has a reading accepted (see {@link #firstAccepted}). */
  void watchAcceptance(Set<String> devices) {
    firstAccepted.clear();
    watched = Set.copyOf(devices);
  }

  boolean watching() {
    return watched != null;
  }

  /** A reading of {@code deviceId} was accepted at {@code nanos} (System.nanoTime). */
  void accepted(String deviceId, long nanos) {
    Set<String> w = watched;
    if (w != null && w.contains(deviceId)) {
      firstAccepted.putIfAbsent(deviceId, nanos);
    }
  }

  /** The watched devices that have had a reading accepted since {@link #watchAcceptance}, with when (System.nanoTime). */
  Map<String, Long> firstAccepted() {
    return Map.copyOf(firstAccepted);
  }

  /** A reading of {@code deviceId} was acknowledged {@code delayMillis} (simulated) after its stamp. */
  void delivered(String deviceId, long delayMillis) {
    deliveryDelay.accumulate(delayMillis);
    int i = fleet == null ? -1 : fleet.indexOf(deviceId);
    if (i >= 0) {
      int d = (int) Math.min(Integer.MAX_VALUE, Math.max(0, delayMillis));
      deviceDelivery.accumulateAndGet(i, d, Math::max);
      // Later than the gap between the off-line threshold and the next heartbeat: the service may
      // have seen a silence the device never had.
      if (delayMillis > fleet.offlineAfter(i) - fleet.heartbeatMillis(i)) {
        lateReadings.incrementAndGet(i);
      }
    }
  }

  /** The longest one of device {@code i}'s readings took, or the longest of all if devices are not followed. */
  @Override
  public long longest(int i) {
    return i < deviceDelivery.length() ? deviceDelivery.get(i) : deliveryDelay.get();
  }

  @Override
  public int late(int i) {
    return i < lateReadings.length() ? lateReadings.get(i) : 0;
  }

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
