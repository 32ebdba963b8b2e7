package io.twinfleet.loadtest;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.util.Timestamps;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.twinfleet.loadtest.sim.DeviceModel;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.TimingWheel;
import io.twinfleet.protocol.v1.ClaimDeviceRequest;
import io.twinfleet.protocol.v1.DecommissionDeviceRequest;
import io.twinfleet.protocol.v1.DecommissionReason;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.FaultSet;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.Reading;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import io.twinfleet.protocol.v1.ReportedFault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives a {@link Fleet} against a service: provisions it (RegisterDevice, then ClaimDevice, a
 * bounded number in flight), steps every device on a timing wheel in the service's (possibly
 * accelerated) time, sends what they report over a few ReportStreams, decommissions the devices
 * that reach the end of their life, and optionally samples GetDevice while all this runs.
 *
 * <p>All changes to the fleet happen on one thread, the simulation thread; answers from the
 * service reach it through queues. {@link #freeze} stops every change so that the service's view
 * settles for the referee, while devices on line keep reporting.
 */
final class Simulation implements AutoCloseable {

  /** Real time between two turns of the simulation loop. */
  private static final long TICK_REAL_MILLIS = 10;
  private static final long CLAIM_FAILED = Long.MIN_VALUE;
  /** How far (real time) the simulation stays behind the service clock it estimated. */
  private static final long SAFETY_REAL_MILLIS = 20;

  private final Fleet fleet;
  private final ServiceTime time;
  private final ReadingStreams streams;
  private final DeviceServiceGrpc.DeviceServiceFutureStub devices;
  /** One stub per connection: GetDevice samples are spread over all of them. */
  private final List<DeviceServiceGrpc.DeviceServiceFutureStub> sampling;
  private final RunStats stats;
  private final TimingWheel wheel;
  private final ConcurrentLinkedQueue<long[]> claims = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<long[]> retirements = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<long[]> decommissions = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Silencing> silencings = new ConcurrentLinkedQueue<>();

  private record Silencing(List<Integer> candidates, int count, CompletableFuture<List<Integer>> done) {}
  private final AtomicLong decommissionsPending = new AtomicLong();
  private final ScheduledExecutorService background = Executors.newScheduledThreadPool(2, r -> {
    Thread t = new Thread(r, "simulation-background");
    t.setDaemon(true);
    return t;
  });
  private final Thread loop;
  private volatile boolean frozen;
  private volatile boolean stopped;
  private volatile boolean measuringGets;
  private volatile long provisioned;
  private volatile long reachedMillis; // the simulated time every device has been stepped to
  private volatile Throwable failure;

  Simulation(Fleet fleet, ServiceTime time, List<ManagedChannel> channels, int batchSize, int inFlight, RunStats stats) {
    this.fleet = fleet;
    this.time = time;
    this.stats = stats;
    this.streams = new ReadingStreams(channels, batchSize, inFlight, null, stats, time);
    this.devices = DeviceServiceGrpc.newFutureStub(channels.get(0));
    this.sampling = channels.stream().map(DeviceServiceGrpc::newFutureStub).toList();
    long tickSim = Math.max(1, time.simulated(TICK_REAL_MILLIS));
    this.wheel = new TimingWheel(fleet.size(), tickSim, 1 << 14, time.nowMillis());
    this.reachedMillis = wheel.now();
    this.loop = new Thread(this::run, "simulation");
    this.loop.setDaemon(true);
  }

  Fleet fleet() {
    return fleet;
  }

  ServiceTime time() {
    return time;
  }

  /** Starts the simulation loop; devices report as soon as their claims are acknowledged. */
  void start() {
    loop.start();
    background.scheduleWithFixedDelay(this::decommissionDue, 200, 200, TimeUnit.MILLISECONDS);
  }

  /**
   * Registers every device and claims the ones meant to be claimed, {@code concurrency} at a time,
   * and returns when all have answered. A call refused with a status that says "safe to retry"
   * (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) is retried after a pause, up to {@value
   * #ATTEMPTS} attempts. Safe to repeat: registration is idempotent.
   */
  Duration provision(int concurrency, Progress.Counter progress) throws InterruptedException {
    long start = System.nanoTime();
    Semaphore window = new Semaphore(concurrency);
    for (int i = 0; i < fleet.size(); i++) {
      window.acquire();
      register(i, 1, window, progress);
    }
    window.acquire(concurrency);
    window.release(concurrency);
    measuringGets = true;
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /**
   * A fresh node places its shards one by one and may not answer a first registration within its
   * ask timeout for tens of seconds (seen: four attempts, 1 + 2 + 3 s apart, all refused): a
   * gateway keeps trying a call that is safe to repeat for about a minute before it counts it.
   */
  private static final int ATTEMPTS = 8;

  private void register(int device, int attempt, Semaphore window, Progress.Counter progress) {
    RegisterDeviceRequest register = RegisterDeviceRequest.newBuilder()
        .setDeviceId(fleet.deviceId(device))
        .setModel(fleet.modelName(device))
        .setSerial(fleet.serial(device))
        .setHeartbeatInterval(com.google.protobuf.Duration.newBuilder().setSeconds(fleet.heartbeatMillis(device) / 1000))
        .setFirmwareVersion(fleet.initialFirmwareOf(device))
        .build();
    Futures.addCallback(devices.withDeadlineAfter(60, TimeUnit.SECONDS).registerDevice(register), new FutureCallback<>() {
      @Override
      public void onSuccess(Device d) {
        stats.registered.increment();
        if (fleet.claimPlanned(device)) {
          fleet.claiming(device);
          claim(device, 1, window, progress);
        } else {
          done(window, progress);
        }
      }

      @Override
      public void onFailure(Throwable t) {
        if (!retry(t, attempt, "RegisterDevice", () -> register(device, attempt + 1, window, progress))) {
          done(window, progress);
        }
      }
    }, MoreExecutors.directExecutor());
  }

  private void claim(int device, int attempt, Semaphore window, Progress.Counter progress) {
    ClaimDeviceRequest claim = ClaimDeviceRequest.newBuilder()
        .setDeviceId(fleet.deviceId(device)).setCustomerId(fleet.customerId(device)).setSiteId(fleet.siteId(device)).build();
    Futures.addCallback(devices.withDeadlineAfter(60, TimeUnit.SECONDS).claimDevice(claim), new FutureCallback<>() {
      @Override
      public void onSuccess(Device d) {
        stats.claimed.increment();
        claims.add(new long[] {device, time.nowMillis()});
        done(window, progress);
      }

      @Override
      public void onFailure(Throwable t) {
        if (!retry(t, attempt, "ClaimDevice", () -> claim(device, attempt + 1, window, progress))) {
          claims.add(new long[] {device, CLAIM_FAILED});
          done(window, progress);
        }
      }
    }, MoreExecutors.directExecutor());
  }

  /** Schedules {@code again} if the failure is worth retrying; otherwise counts it. */
  private boolean retry(Throwable t, int attempt, String call, Runnable again) {
    Status s = Status.fromThrowable(t);
    boolean retryable = s.getCode() == Status.Code.UNAVAILABLE || s.getCode() == Status.Code.DEADLINE_EXCEEDED
        || s.getCode() == Status.Code.RESOURCE_EXHAUSTED;
    if (retryable && attempt < ATTEMPTS) {
      stats.retries.increment();
      background.schedule(again, attempt, TimeUnit.SECONDS);
      return true;
    }
    stats.error(call, s.getCode().name(), s.getDescription());
    return false;
  }

  private void done(Semaphore window, Progress.Counter progress) {
    provisioned++;
    progress.increment();
    window.release();
  }

  long provisioned() {
    return provisioned;
  }

  /** GetDevice on random devices at {@code perSecond}, measured once provisioning is over. */
  void sampleGets(int perSecond) {
    if (perSecond <= 0) {
      return;
    }
    Semaphore outstanding = new Semaphore(2_000);
    long perTick = Math.max(1, perSecond / 100);
    long periodMicros = 1_000_000L * perTick / perSecond;
    background.scheduleAtFixedRate(() -> {
      if (!measuringGets) {
        return; // twins are still being created: asking for them now would measure recoveries
      }
      for (int k = 0; k < perTick; k++) {
        if (!outstanding.tryAcquire()) {
          stats.error("GetDevice", "CLIENT_BACKLOG", "more than 2,000 GetDevice calls outstanding; the call was skipped");
          continue;
        }
        int i = ThreadLocalRandom.current().nextInt(fleet.size());
        long t0 = System.nanoTime();
        Futures.addCallback(sampling.get(i % sampling.size()).withDeadlineAfter(10, TimeUnit.SECONDS).getDevice(GetDeviceRequest.newBuilder().setDeviceId(fleet.deviceId(i)).build()),
            new FutureCallback<>() {
              @Override
              public void onSuccess(Device d) {
                outstanding.release();
                stats.getLatency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
              }

              @Override
              public void onFailure(Throwable t) {
                outstanding.release();
                stats.error("GetDevice", Status.fromThrowable(t).getCode().name(), Status.fromThrowable(t).getDescription());
              }
            }, MoreExecutors.directExecutor());
      }
    }, periodMicros, periodMicros, TimeUnit.MICROSECONDS);
  }

  /**
   * Stops every change in the fleet and waits until the service has acknowledged what was sent
   * and decommissioned the devices that retired; devices on line keep reporting the same values.
   */
  void freeze(Duration timeout) throws InterruptedException {
    frozen = true;
    measuringGets = false;
    long end = System.nanoTime() + timeout.toNanos();
    while ((!retirements.isEmpty() || decommissionsPending.get() > 0 || !decommissions.isEmpty()) && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    Thread.sleep(2 * TICK_REAL_MILLIS);
    streams.awaitAcks(Duration.ofNanos(Math.max(0, end - System.nanoTime())));
  }

  /**
   * Up to {@code count} of {@code candidates} that are on line fall silent for good at their next
   * heartbeat (see {@link Fleet#silence}); returns the ones that will, once the simulation thread
   * has told them.
   */
  List<Integer> silence(List<Integer> candidates, int count) throws InterruptedException {
    Silencing s = new Silencing(candidates, count, new CompletableFuture<>());
    silencings.add(s);
    try {
      return s.done().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the simulation did not take the silencing", e);
    }
  }

  /**
   * How far the simulation runs behind the service clock, in simulated milliseconds; it also grows
   * while a step waits for the service.
   */
  long lagMillis() {
    return Math.max(0, time.nowMillis() - reachedMillis);
  }

  /** The simulated time every device has been stepped to: what the fleet's truth is as of. */
  long reachedMillis() {
    return reachedMillis;
  }

  /** Why the simulation loop stopped, if it failed. */
  Throwable failure() {
    return failure;
  }

  private void run() {
    try {
      while (!stopped) {
        long started = System.nanoTime();
        long now = time.nowMillis();
        for (long[] c; (c = claims.poll()) != null; ) {
          if (c[1] == CLAIM_FAILED) {
            fleet.claimFailed((int) c[0]);
            continue;
          }
          long due = fleet.claimed((int) c[0], c[1]);
          if (due != Fleet.NEVER) {
            wheel.schedule((int) c[0], due);
          }
        }
        for (long[] d; (d = decommissions.poll()) != null; ) {
          fleet.decommissioned((int) d[0], d[1], d[2]);
        }
        for (Silencing s; (s = silencings.poll()) != null; ) {
          List<Integer> silenced = new ArrayList<>();
          for (Iterator<Integer> it = s.candidates().iterator(); it.hasNext() && silenced.size() < s.count(); ) {
            int i = it.next();
            if (fleet.silence(i)) {
              silenced.add(i);
            }
          }
          s.done().complete(silenced);
        }
        // A little behind the service clock, so no reading is ever stamped ahead of it.
        wheel.advance(now - time.simulated(SAFETY_REAL_MILLIS), this::wake);
        streams.flush();
        reachedMillis = wheel.now();
        long sleep = TICK_REAL_MILLIS - (System.nanoTime() - started) / 1_000_000;
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
    }
  }

  private void wake(int i) {
    long at = fleet.due(i);
    switch (fleet.step(i, at, frozen)) {
      case REPORT -> {
        try {
          streams.add(i % streams.count(), reading(i, at));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          stopped = true;
        }
      }
      case RETIRE -> retirements.add(new long[] {i, streams.mark(i % streams.count())});
      case NOTHING -> {}
    }
    long next = fleet.due(i);
    if (next != Fleet.NEVER) {
      wheel.schedule(i, next);
    }
  }

  private Reading reading(int i, long at) {
    DeviceModel m = fleet.modelOf(i);
    Reading.Builder r = Reading.newBuilder()
        .setDeviceId(fleet.deviceId(i))
        .setObservedAt(Timestamps.fromMillis(at))
        .setFirmwareVersion(fleet.firmwareOf(i));
    if (m.hasBattery()) {
      r.setBatteryPercent(fleet.batteryPercent(i));
    }
    if (m.isCharger()) {
      r.setInUse(fleet.inUse(i));
    }
    FaultSet.Builder faults = FaultSet.newBuilder();
    DeviceModel.Fault f = fleet.faultOf(i);
    if (f != null) {
      faults.addFaults(ReportedFault.newBuilder().setCode(f.code()).setSeverity(f.severity()));
    }
    return r.setFaults(faults).build();
  }

  /**
   * Sends DecommissionDevice for the devices that retired once the service has answered every
   * reading they sent before (else a late reading would meet a decommissioned twin).
   */
  private void decommissionDue() {
    for (Iterator<long[]> it = retirements.iterator(); it.hasNext(); ) {
      long[] r = it.next();
      int i = (int) r[0];
      if (!streams.settled(i % streams.count(), r[1])) {
        continue;
      }
      it.remove();
      DecommissionReason reason = DecommissionReason.forNumber(1 + i % 4);
      decommissionsPending.incrementAndGet();
      long requested = time.nowMillis();
      Futures.addCallback(devices.withDeadlineAfter(30, TimeUnit.SECONDS).decommissionDevice(
              DecommissionDeviceRequest.newBuilder().setDeviceId(fleet.deviceId(i)).setReason(reason).build()),
          new FutureCallback<>() {
            @Override
            public void onSuccess(Device d) {
              stats.decommissioned.increment();
              decommissions.add(new long[] {i, requested, time.nowMillis()});
              decommissionsPending.decrementAndGet();
            }

            @Override
            public void onFailure(Throwable t) {
              stats.error("DecommissionDevice", Status.fromThrowable(t).getCode().name(), Status.fromThrowable(t).getDescription());
              decommissionsPending.decrementAndGet();
            }
          }, MoreExecutors.directExecutor());
    }
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    loop.join(5_000);
    background.shutdownNow();
    streams.close();
  }
}
