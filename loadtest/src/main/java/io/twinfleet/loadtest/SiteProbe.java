package io.twinfleet.loadtest;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.ClaimDeviceRequest;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.Reading;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import io.twinfleet.protocol.v1.Site;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import io.twinfleet.protocol.v1.WatchSiteRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.protocol.v1.GetSiteRequest;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Measures how long a device's change takes to reach its site, under the run's load: a probe
 * device of its own at a site of its own starts and ends a session every {@code period}, which
 * makes its site unavailable and available again, and a {@code WatchSite} stream notes when the
 * site follows. Latency is from the report being sent to the site's view arriving, in
 * microseconds.
 */
final class SiteProbe implements AutoCloseable {

  private final ManagedChannel channel;
  private final ServiceTime time;
  private final String deviceId;
  private final String siteId;
  private final Recorder latency = new Recorder(3);
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "site-probe");
    t.setDaemon(true);
    return t;
  });
  private Context.CancellableContext watch;
  /** The availability the site is expected to reach, and when the report that causes it was sent (0: none pending). */
  private volatile boolean expectAvailable = true;
  private volatile long sentNanos;
  private volatile long lastObservedMillis;

  SiteProbe(ManagedChannel channel, ServiceTime time, String prefix) {
    this.channel = channel;
    this.time = time;
    this.deviceId = prefix + "probe";
    this.siteId = prefix + "probe-site";
  }

  /** Registers, claims and activates the probe device, watches its site, and flips its session every {@code periodMillis} (real). */
  void start(long periodMillis) {
    var devices = DeviceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    devices.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(deviceId).setModel(deviceId).setSerial(deviceId)
        .setHeartbeatInterval(com.google.protobuf.Duration.newBuilder().setSeconds(24 * 3600)).build());
    devices.claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(deviceId).setCustomerId(deviceId).setSiteId(siteId).build());
    report(false);
    awaitSite();
    watch = Context.current().withCancellation();
    watch.run(() -> SiteServiceGrpc.newStub(channel).watchSite(WatchSiteRequest.newBuilder().setSiteId(siteId).build(), new StreamObserver<>() {
      @Override
      public void onNext(Site s) {
        long sent = sentNanos;
        if (sent != 0 && s.getAvailable() == expectAvailable) {
          latency.recordValue(Math.max(0, (System.nanoTime() - sent) / 1000));
          sentNanos = 0;
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    }));
    timer.scheduleWithFixedDelay(this::flip, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** The site exists once the projection has delivered the claim, seconds after it; asked again until then, for a minute. */
  private void awaitSite() {
    var sites = SiteServiceGrpc.newBlockingStub(channel);
    long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (sites.withDeadlineAfter(10, TimeUnit.SECONDS).getSite(GetSiteRequest.newBuilder().setSiteId(siteId).build()).getAvailable()) {
          return;
        }
      } catch (StatusRuntimeException e) {
        // not there yet, or its twin busy (UNAVAILABLE is safe to retry)
        Status.Code code = e.getStatus().getCode();
        if ((code != Status.Code.NOT_FOUND && code != Status.Code.UNAVAILABLE) || System.nanoTime() > giveUpAt) {
          throw e;
        }
      }
      if (System.nanoTime() > giveUpAt) {
        throw new IllegalStateException("the probe site " + siteId + " did not become available within a minute");
      }
      try {
        TimeUnit.MILLISECONDS.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private void flip() {
    if (sentNanos != 0) {
      return; // the last change has not reached the site yet: wait for it rather than overlap
    }
    boolean inUse = expectAvailable; // available now: start a session
    expectAvailable = !inUse;
    sentNanos = System.nanoTime();
    try {
      report(inUse);
    } catch (RuntimeException e) {
      sentNanos = 0;
      expectAvailable = inUse;
    }
  }

  private void report(boolean inUse) {
    long now = Math.max(time.nowMillis(), lastObservedMillis + 1);
    lastObservedMillis = now;
    Timestamp at = Timestamps.fromMillis(now);
    TelemetryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .report(Reading.newBuilder().setDeviceId(deviceId).setObservedAt(at).setInUse(inUse).build());
  }

  /** The latencies measured since the last call. */
  Histogram interval() {
    return latency.getIntervalHistogram();
  }

  @Override
  public void close() {
    timer.shutdownNow();
    if (watch != null) {
      watch.cancel(null);
    }
  }
}
