package io.twinfleet.loadtest;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.util.Timestamps;
import io.grpc.Status;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.Stage;
import io.twinfleet.protocol.v1.Uptime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * Compares what the service says about each device with what really happened to it: on line or
 * not, battery, firmware, journey stage, decommissioning and off-line time since activation; then
 * the fleet's uptime over the devices checked. Run it on a frozen fleet (see {@link
 * Simulation#freeze}), where nothing changes but time.
 *
 * <p>Some truths are not yet settled when a device is asked about: one that went quiet is on line
 * until its off-line threshold passes, and a stage flips at its milestone. A device within {@code
 * tolerance} of such a moment is asked again once it has passed, so the verdict never depends on
 * how the request raced a timer.
 *
 * <p>Off-line time cannot match to the millisecond: the service starts an episode at the last
 * reading's arrival plus the threshold and ends it at the next arrival, where the truth uses the
 * readings' stamps. Both ends are late by at most the device's longest delivery, so each silence
 * may differ by that much: every drop (one shorter than the threshold may have outlasted it on
 * arrival), every reading so late that the service saw a silence the device never had, and the
 * episode still open, which may also differ by how long the question took. A decommissioned
 * device's life and last episode end when the service handled the request, somewhere between
 * request and acknowledgement. A device is allowed the sum; the fleet's uptime what the devices'
 * allowances add up to.
 */
final class Referee {

  /** One difference between the service and the truth. */
  record Mismatch(String deviceId, String field, String expected, String actual) {
    @Override
    public String toString() {
      return deviceId + " " + field + ": expected " + expected + ", service says " + actual;
    }
  }

  /** The verdict. {@code serviceOnline} and {@code trueOnline} count devices on line among those checked. */
  record Verdict(long checked, long deferred, long serviceOnline, long trueOnline, long active, FleetUptime uptime,
      List<Mismatch> mismatches) {
    boolean passed() {
      return mismatches.isEmpty();
    }

    static Verdict none() {
      return new Verdict(0, 0, 0, 0, 0, FleetUptime.NONE, List.of());
    }

    /** This verdict with {@code more} mismatches found by another check. */
    Verdict with(List<Mismatch> more) {
      List<Mismatch> all = new ArrayList<>(mismatches);
      all.addAll(more);
      return new Verdict(checked, deferred, serviceOnline, trueOnline, active, uptime, all);
    }
  }

  /**
   * Fleet uptime since activation over the devices checked, as the service and the truth count it,
   * and how far apart the two may be given the allowed difference per device.
   */
  record FleetUptime(double service, double truth, double tolerance) {
    static final FleetUptime NONE = new FleetUptime(Double.NaN, Double.NaN, 0);

    boolean agrees() {
      return Double.isNaN(truth) || Math.abs(service - truth) <= tolerance;
    }
  }

  /** Running sums of life and off-line time, in milliseconds, over the devices checked. */
  static final class UptimeSums {
    final AtomicLong serviceLife = new AtomicLong();
    final AtomicLong serviceOffline = new AtomicLong();
    final AtomicLong trueLife = new AtomicLong();
    final AtomicLong trueOffline = new AtomicLong();
    final AtomicLong allowedOffline = new AtomicLong();
    final AtomicLong allowedLife = new AtomicLong();

    FleetUptime result() {
      if (trueLife.get() == 0 || serviceLife.get() == 0) {
        return FleetUptime.NONE;
      }
      double life = Math.min(trueLife.get(), serviceLife.get());
      return new FleetUptime(
          1 - (double) serviceOffline.get() / serviceLife.get(),
          1 - (double) trueOffline.get() / trueLife.get(),
          (allowedOffline.get() + allowedLife.get()) / life);
    }
  }

  private static final int MAX_ROUNDS = 6;

  private final Fleet fleet;
  private final ServiceTime time;
  private final DeviceServiceGrpc.DeviceServiceFutureStub devices;
  private final long toleranceMillis;
  private final Deliveries deliveries;

  /** What the load generator saw of each device's deliveries, in simulated time. */
  interface Deliveries {
    /** The longest one of device {@code i}'s readings took from its stamp to its acknowledgement. */
    long longest(int i);

    /** How many of device {@code i}'s readings took longer than its heartbeat interval. */
    int late(int i);

    /**
     * How much newer than its stored sighting the service may have seen device {@code i} before it
     * lost its memory (its twin's node was killed): an episode open then starts up to that much later.
     */
    default long forgotten(int i) {
      return 0;
    }

    /**
     * Whether device {@code i}'s twin lost its memory and has had no reading of it accepted since:
     * its battery, held in memory between checkpoints, may then be an older one.
     */
    default boolean unheardSinceForgetting(int i) {
      return false;
    }
  }

  /**
   * @param toleranceMillis simulated time around a threshold or milestone within which a device's
   *     state is not judged yet (cover the ack latency and the service's timer resolution)
   * @param deliveries per device, how late the service may have seen its readings
   */
  Referee(Fleet fleet, ServiceTime time, DeviceServiceGrpc.DeviceServiceFutureStub devices, long toleranceMillis,
      Deliveries deliveries) {
    this.fleet = fleet;
    this.time = time;
    this.devices = devices;
    this.toleranceMillis = toleranceMillis;
    this.deliveries = deliveries;
  }

  /** A referee for the run {@code stats} describe. */
  static Referee of(Fleet fleet, ServiceTime time, DeviceServiceGrpc.DeviceServiceFutureStub devices, RunStats stats) {
    return new Referee(fleet, time, devices, tolerance(time, stats), stats);
  }

  /**
   * How close to a threshold a truth is too close to call: twice the longest any reading took to
   * reach its twin in the run (resent readings included), at least five seconds and at most a
   * minute of real time.
   */
  static long tolerance(ServiceTime time, RunStats stats) {
    long realMillis = (long) (stats.deliveryDelay.get() / time.speed());
    return time.simulated(Math.min(Math.max(5_000, 2 * realMillis), 60_000));
  }

  /** Checks the devices {@code include} accepts, {@code concurrency} requests at a time. */
  Verdict verify(IntPredicate include, int concurrency, Progress.Counter progress) throws InterruptedException {
    List<Mismatch> mismatches = Collections.synchronizedList(new ArrayList<>());
    AtomicLong checked = new AtomicLong();
    AtomicLong serviceOnline = new AtomicLong();
    AtomicLong trueOnline = new AtomicLong();
    AtomicLong active = new AtomicLong();
    AtomicLong deferredTotal = new AtomicLong();
    UptimeSums uptime = new UptimeSums();
    List<Integer> todo = new ArrayList<>();
    for (int i = 0; i < fleet.size(); i++) {
      if (include.test(i)) {
        todo.add(i);
      }
    }
    for (int round = 0; round < MAX_ROUNDS && !todo.isEmpty(); round++) {
      ConcurrentLinkedQueue<long[]> deferred = new ConcurrentLinkedQueue<>();
      Semaphore window = new Semaphore(concurrency);
      boolean last = round == MAX_ROUNDS - 1;
      for (int i : todo) {
        long unsettledUntil = unsettledUntil(i, time.nowMillis());
        if (unsettledUntil > 0 && !last) {
          deferred.add(new long[] {i, unsettledUntil});
          continue;
        }
        window.acquire();
        long asked = time.nowMillis();
        Futures.addCallback(devices.withDeadlineAfter(30, TimeUnit.SECONDS).getDevice(GetDeviceRequest.newBuilder().setDeviceId(fleet.deviceId(i)).build()),
            new FutureCallback<>() {
              @Override
              public void onSuccess(Device d) {
                long answered = time.nowMillis();
                long unsettled = Math.max(unsettledUntil(i, asked), unsettledUntil(i, answered));
                if (unsettled == 0 && readingInFlight(i, d, answered)) {
                  unsettled = answered + toleranceMillis;
                }
                if (unsettled > 0 && !last) {
                  deferred.add(new long[] {i, unsettled});
                } else {
                  compare(i, d, asked, answered, mismatches, uptime);
                  checked.incrementAndGet();
                  progress.increment();
                  if (activeAt(i)) {
                    active.incrementAndGet();
                    if (d.getOnline()) {
                      serviceOnline.incrementAndGet();
                    }
                    if (fleet.online(i, answered)) {
                      trueOnline.incrementAndGet();
                    }
                  }
                }
                window.release();
              }

              @Override
              public void onFailure(Throwable t) {
                Status s = Status.fromThrowable(t);
                mismatches.add(new Mismatch(fleet.deviceId(i), "GetDevice", "the device", s.getCode() + " " + s.getDescription()));
                checked.incrementAndGet();
                progress.increment();
                window.release();
              }
            }, MoreExecutors.directExecutor());
      }
      window.acquire(concurrency);
      todo = new ArrayList<>();
      long wakeAt = 0;
      for (long[] d : deferred) {
        todo.add((int) d[0]);
        wakeAt = Math.max(wakeAt, d[1]);
      }
      deferredTotal.addAndGet(todo.size());
      if (!todo.isEmpty()) {
        long waitSim = wakeAt - time.nowMillis();
        long waitReal = (long) Math.ceil(Math.max(0, waitSim) / time.speed());
        Thread.sleep(Math.min(Math.max(waitReal, 50), 120_000));
      }
    }
    List<Mismatch> sorted = new ArrayList<>(mismatches);
    sorted.sort((a, b) -> a.deviceId().compareTo(b.deviceId()));
    FleetUptime fleetUptime = uptime.result();
    if (!fleetUptime.agrees()) {
      sorted.add(new Mismatch("fleet", "uptime since activation", percent(fleetUptime.truth()) + " ± " + percent(fleetUptime.tolerance()),
          percent(fleetUptime.service())));
    }
    return new Verdict(checked.get(), deferredTotal.get(), serviceOnline.get(), trueOnline.get(), active.get(), fleetUptime, sorted);
  }

  private boolean activeAt(int i) {
    byte s = fleet.state(i);
    return s == Fleet.ONLINE || s == Fleet.OFFLINE || s == Fleet.RETIRING;
  }

  /**
   * Zero when device {@code i}'s expected view is settled at {@code t}; otherwise the simulated
   * time after which it will be.
   */
  long unsettledUntil(int i, long t) {
    long until = thresholdUnsettled(fleet, i, t, toleranceMillis);
    if (activeAt(i)) {
      long next = fleet.nextStageBoundary(i, t - toleranceMillis);
      if (next != Fleet.NEVER && Math.abs(t - next) < toleranceMillis) {
        until = Math.max(until, next + toleranceMillis);
      }
    }
    return until;
  }

  /**
   * Zero unless device {@code i} is within {@code tolerance} of its off-line threshold at {@code t},
   * where the service and the truth may disagree for a moment; otherwise when that has passed.
   */
  static long thresholdUnsettled(Fleet fleet, int i, long t, long tolerance) {
    byte state = fleet.state(i);
    long threshold = fleet.lastSent(i) + fleet.offlineAfter(i);
    if (state == Fleet.OFFLINE || state == Fleet.RETIRING) {
      // it stopped reporting: the service flips it off line at its threshold, not before
      return Math.abs(t - threshold) < tolerance ? threshold + tolerance : 0;
    }
    if (state == Fleet.ONLINE && t >= threshold && t - threshold < tolerance) {
      // its report is due but not sent yet (the simulation runs late): off line by the truth for a
      // moment the service may not have seen yet, or on line again once the report arrives
      return threshold + tolerance;
    }
    return 0;
  }

  /**
   * Whether the service saw device {@code i} off line at {@code t} only because its latest reading,
   * sent before its previous one's threshold passed, had not reached it yet (a delivery slower than
   * usual, a second of real time being many minutes here): asked again later, it must agree.
   */
  private boolean readingInFlight(int i, Device d, long t) {
    return fleet.state(i) == Fleet.ONLINE && fleet.online(i, t) && !d.getOnline() && d.hasLastSeen()
        && Timestamps.toMillis(d.getLastSeen()) < fleet.lastSent(i);
  }

  private static long millis(com.google.protobuf.Duration d) {
    return com.google.protobuf.util.Durations.toMillis(d);
  }

  private static String percent(double share) {
    return String.format(Locale.ROOT, "%.4f%%", 100 * share);
  }

  /** Compares device {@code i}'s view {@code d}, asked for at {@code asked} and answered at {@code t}, with the truth. */
  void compare(int i, Device d, long asked, long t, List<Mismatch> out, UptimeSums uptime) {
    String id = fleet.deviceId(i);
    byte state = fleet.state(i);
    Stage stage = fleet.stage(i, t);
    check(out, id, "stage", stage, d.getStage());
    boolean reported = fleet.activatedAt(i) != 0;
    boolean retired = state == Fleet.DECOMMISSIONED;
    check(out, id, "decommissioned", retired, d.getDecommissioned());
    if (!retired && fleet.online(i, t) != d.getOnline()) {
      // say enough to tell a late timer from a lost reading
      Instant last = Instant.ofEpochMilli(fleet.lastSent(i));
      out.add(new Mismatch(id, "online",
          fleet.online(i, t) + " (state " + state + ", last report stamped " + last + ", off line from "
              + last.plusMillis(fleet.offlineAfter(i)) + ", asked at " + Instant.ofEpochMilli(t) + ")",
          d.getOnline() + " (last_seen " + Timestamps.toString(d.getLastSeen())
              + ", connectivity_since " + Timestamps.toString(d.getConnectivitySince()) + ")"));
    }
    check(out, id, "firmware_version", reported ? fleet.firmwareOf(i) : fleet.initialFirmwareOf(i), d.getFirmwareVersion());
    if (!reported) {
      if (d.hasUptimeSinceActivation()) {
        out.add(new Mismatch(id, "uptime_since_activation", "none (never reported)", d.getUptimeSinceActivation().toString().trim()));
      }
    } else if (!d.hasUptimeSinceActivation()) {
      out.add(new Mismatch(id, "uptime_since_activation", "set (activated)", "none"));
    } else {
      Uptime u = d.getUptimeSinceActivation();
      long offline = millis(u.getOffline());
      long trueOffline = fleet.offlineMillis(i, t);
      long delivery = deliveries.longest(i);
      long ends = (t - asked) + fleet.decommissionLatency(i);
      long silences = fleet.drops(i) + deliveries.late(i) + 1L;
      long allowed = silences * delivery + ends + deliveries.forgotten(i);
      if (Math.abs(offline - trueOffline) > allowed) {
        out.add(new Mismatch(id, "uptime_since_activation.offline",
            Duration.ofMillis(trueOffline) + " ± " + Duration.ofMillis(allowed) + " (" + silences + " silences)",
            Duration.ofMillis(offline) + " of " + Duration.ofMillis(millis(u.getCounted())) + " counted"));
      }
      long life = millis(u.getCounted());
      long trueLife = fleet.lifeMillis(i, t);
      if (Math.abs(life - trueLife) > delivery + ends) {
        out.add(new Mismatch(id, "uptime_since_activation.counted",
            Duration.ofMillis(trueLife) + " ± " + Duration.ofMillis(delivery + ends), Duration.ofMillis(life).toString()));
      }
      uptime.serviceLife.addAndGet(life);
      uptime.serviceOffline.addAndGet(offline);
      uptime.trueLife.addAndGet(trueLife);
      uptime.trueOffline.addAndGet(trueOffline);
      uptime.allowedOffline.addAndGet(allowed);
      uptime.allowedLife.addAndGet(delivery + ends);
    }
    if (reported && fleet.modelOf(i).hasBattery()) {
      if (!deliveries.unheardSinceForgetting(i)) {
        check(out, id, "battery_percent", fleet.batteryPercent(i), d.hasBatteryPercent() ? d.getBatteryPercent() : null);
      }
    } else if (d.hasBatteryPercent()) {
      out.add(new Mismatch(id, "battery_percent", "none", String.valueOf(d.getBatteryPercent())));
    }
  }

  private static void check(List<Mismatch> out, String id, String field, Object expected, Object actual) {
    if (!expected.equals(actual)) {
      out.add(new Mismatch(id, field, String.valueOf(expected), String.valueOf(actual)));
    }
  }
}
