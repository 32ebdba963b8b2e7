package io.twinfleet.service.device;

import com.typesafe.config.Config;
import io.twinfleet.service.ServiceClock;
import java.time.Duration;

/**
 * The {@code twinfleet.device} settings, with the model lifetimes of {@code twinfleet.journey}, the
 * {@code twinfleet.churn-risk} and the {@code twinfleet.alerts} settings, read once. Every duration
 * is service time, {@code checkpointInterval} included: the setting is real time (what a checkpoint
 * costs is writes per real second), multiplied here by the clock speed.
 */
public record DeviceSettings(
    Duration defaultHeartbeatInterval,
    int offlineAfterHeartbeats,
    int batteryLowBelow,
    int batteryRecoveredAbove,
    Duration checkpointInterval,
    Duration maxClockSkew,
    Duration maxReadingAge,
    ReadingRateLimit readingRateLimit,
    int snapshotEvery,
    int projectionTags,
    Lifetimes lifetimes,
    ChurnRiskSettings churnRisk,
    AlertSettings alerts) {

  public DeviceSettings {
    if (batteryRecoveredAbove < batteryLowBelow) {
      throw new IllegalArgumentException("battery-recovered-above must not be below battery-low-below");
    }
    if (offlineAfterHeartbeats < 1 || snapshotEvery < 1 || projectionTags < 1) {
      throw new IllegalArgumentException("offline-after-heartbeats, snapshot-every and projection-tags must be positive");
    }
  }

  public static DeviceSettings fromConfig(Config root) {
    Config c = root.getConfig("twinfleet.device");
    return new DeviceSettings(
        c.getDuration("default-heartbeat-interval"),
        c.getInt("offline-after-heartbeats"),
        c.getInt("battery-low-below"),
        c.getInt("battery-recovered-above"),
        ServiceClock.serviceTime(c.getDuration("checkpoint-interval"), root.getDouble("twinfleet.clock.speed")),
        c.getDuration("max-clock-skew"),
        c.getDuration("max-reading-age"),
        ReadingRateLimit.fromConfig(c),
        c.getInt("snapshot-every"),
        c.getInt("projection-tags"),
        Lifetimes.fromConfig(root),
        ChurnRiskSettings.fromConfig(root),
        AlertSettings.fromConfig(root));
  }

  /** Defaults as in twinfleet.conf at real time, for tests of pure rules. */
  public static DeviceSettings defaults() {
    return new DeviceSettings(
        Duration.ofMinutes(5), 2, 20, 30, Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofDays(7),
        new ReadingRateLimit(100, 200), 100, 4, Lifetimes.NONE,
        ChurnRiskSettings.defaults(), AlertSettings.defaults());
  }

  /** These settings with other model lifetimes. */
  public DeviceSettings withLifetimes(Lifetimes other) {
    return new DeviceSettings(defaultHeartbeatInterval, offlineAfterHeartbeats, batteryLowBelow, batteryRecoveredAbove, checkpointInterval,
        maxClockSkew, maxReadingAge, readingRateLimit, snapshotEvery, projectionTags, other, churnRisk, alerts);
  }

  /** These settings with another reading rate limit. */
  public DeviceSettings withReadingRateLimit(ReadingRateLimit other) {
    return new DeviceSettings(defaultHeartbeatInterval, offlineAfterHeartbeats, batteryLowBelow, batteryRecoveredAbove, checkpointInterval,
        maxClockSkew, maxReadingAge, other, snapshotEvery, projectionTags, lifetimes, churnRisk, alerts);
  }

  /** How long without a report before a device with this heartbeat counts as offline. */
  public Duration offlineAfter(Duration heartbeatInterval) {
    return heartbeatInterval.multipliedBy(offlineAfterHeartbeats);
  }
}
