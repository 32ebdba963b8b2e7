package io.twinfleet.service.device;

import java.time.Instant;
import java.util.Objects;

/**
 * The part of a twin that changes with every report and is deliberately not an event: when the
 * device was last heard from and its battery level between thresholds. Only the twin's own actor
 * touches it. It is checkpointed every {@code checkpoint-interval} and when the twin stops, so after
 * a crash these two values are at most one checkpoint interval stale.
 */
final class LiveTelemetry {

  /** When a report last arrived, by the service clock; null until the first. */
  Instant lastSeen;

  Integer batteryPercent;

  /** The device's own timestamp of the newest reading applied, to ignore out-of-order ones. */
  Instant lastObservedAt;

  /**
   * False right after recovery from a crash: the stored last-seen may be up to a checkpoint interval
   * older than the real one, so offline detection grants that much grace until the next report.
   * True after a graceful stop, which stores the real one.
   */
  boolean exact;

  /** The battery's recent drain; null until the first battery reading since the twin started. */
  BatteryTrend trend;

  /** {@code trendSamples} is how many steps down a battery trend keeps. */
  static LiveTelemetry recoveredFrom(DeviceState.Registered s, int trendSamples) {
    LiveTelemetry live = new LiveTelemetry();
    live.lastSeen = s.connectivity().lastSeen();
    live.batteryPercent = s.telemetry().batteryPercent();
    live.exact = s.connectivity().lastSeenExact();
    if (s.telemetry().batteryTrend() != null) {
      live.trend = BatteryTrend.unpacked(s.telemetry().batteryTrend(), trendSamples);
    } else if (live.batteryPercent != null) {
      live.trend = BatteryTrend.startingAt(live.batteryPercent, trendSamples); // so a charge is known as one
    }
    return live;
  }

  /** The battery trend as text to checkpoint, or null without one. */
  String packedTrend() {
    return trend == null ? null : trend.packed();
  }

  /** Records a reading received at {@code now}; {@code trendSamples} is how many steps down a battery trend keeps. */
  void record(Reading r, Instant now, int trendSamples) {
    lastSeen = now;
    exact = true;
    if (lastObservedAt == null || !r.observedAt().isBefore(lastObservedAt)) {
      lastObservedAt = r.observedAt();
      if (r.batteryPercent() != null) {
        batteryPercent = r.batteryPercent();
        if (trend == null) {
          trend = new BatteryTrend(trendSamples);
        }
        trend.record(r.batteryPercent(), r.observedAt());
      }
    }
  }

  /** Whether memory holds something the journal does not. */
  boolean differsFrom(DeviceState.Registered s) {
    return !Objects.equals(lastSeen, s.connectivity().lastSeen())
        || !Objects.equals(batteryPercent, s.telemetry().batteryPercent())
        || trend != null && !trend.packed().equals(s.telemetry().batteryTrend());
  }
}
