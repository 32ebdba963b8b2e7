package io.twinfleet.service.device;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code twinfleet.alerts} settings: when each kind of alert is raised and over. BATTERY_LOW
 * follows the battery thresholds of {@code twinfleet.device}.
 */
public record AlertSettings(
    Duration offlineAfter,
    Duration onboardingStalledAfter,
    int flappingDisconnects,
    int flappingOverAtMost,
    Duration batteryForecastHorizon,
    int batteryForecastSamples,
    Duration batteryForecastMinSpan,
    Duration keepResolved) {

  public AlertSettings {
    if (flappingDisconnects < 1 || flappingOverAtMost < 0 || flappingOverAtMost >= flappingDisconnects) {
      throw new IllegalArgumentException("alerts: 0 <= flapping-over-at-most < flapping-disconnects");
    }
    if (batteryForecastSamples < 3 || batteryForecastSamples > BatteryTrend.MAX_SAMPLES) {
      throw new IllegalArgumentException("alerts.battery-forecast-samples must be 3 to " + BatteryTrend.MAX_SAMPLES);
    }
    if (offlineAfter.isNegative() || onboardingStalledAfter.isNegative() || batteryForecastHorizon.isZero() || batteryForecastHorizon.isNegative() || keepResolved.isZero() || keepResolved.isNegative()) {
      throw new IllegalArgumentException("alerts: durations must not be negative; horizon and keep-resolved must be positive");
    }
  }

  public static AlertSettings defaults() {
    return new AlertSettings(Duration.ofHours(1), Duration.ofHours(48), 5, 1, Duration.ofDays(14), 8, Duration.ofHours(12), Duration.ofDays(30));
  }

  public static AlertSettings fromConfig(Config root) {
    Config c = root.getConfig("twinfleet.alerts");
    return new AlertSettings(c.getDuration("offline-after"), c.getDuration("onboarding-stalled-after"), c.getInt("flapping-disconnects"),
        c.getInt("flapping-over-at-most"), c.getDuration("battery-forecast-horizon"), c.getInt("battery-forecast-samples"),
        c.getDuration("battery-forecast-min-span"), c.getDuration("keep-resolved"));
  }
}
