package io.twinfleet.service.device;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How many readings one device may send (the {@code twinfleet.device.reading-rate-limit}
 * settings): {@code perSecond} on average and {@code burst} at once, in the service's time.
 * {@code perSecond} 0 is no limit.
 */
public record ReadingRateLimit(double perSecond, int burst) {

  public static final ReadingRateLimit OFF = new ReadingRateLimit(0, 1);

  public ReadingRateLimit {
    if (!(perSecond >= 0) || Double.isInfinite(perSecond) || burst < 1) {
      throw new IllegalArgumentException("reading-rate-limit: per-second must be 0 (off) or more, burst at least 1; was " + perSecond + " and " + burst);
    }
  }

  static ReadingRateLimit fromConfig(Config device) {
    Config c = device.getConfig("reading-rate-limit");
    return new ReadingRateLimit(c.getDouble("per-second"), c.getInt("burst"));
  }

  public boolean off() {
    return perSecond == 0;
  }

  /**
   * One device's allowance: a token bucket that holds {@code burst} readings and refills at {@code
   * perSecond}. Two fields in the twin's memory, not stored: a twin that wakes starts full.
   */
  static final class Allowance {
    private static final double EPSILON = 1e-9; // sums of fractions are not exact

    private double tokens = Double.NaN;
    private long at;

    /**
     * Takes one reading's token at {@code nowMillis} (service time): null if there was one, else
     * how long until there is.
     */
    Duration take(long nowMillis, ReadingRateLimit limit) {
      if (limit.off()) {
        return null;
      }
      if (Double.isNaN(tokens)) {
        tokens = limit.burst();
      } else if (nowMillis > at) {
        tokens = Math.min(limit.burst(), tokens + (nowMillis - at) * limit.perSecond() / 1000.0);
      }
      at = Math.max(at, nowMillis);
      if (tokens >= 1 - EPSILON) {
        tokens -= 1;
        return null;
      }
      return Duration.ofMillis((long) Math.ceil((1 - tokens) * 1000.0 / limit.perSecond() - EPSILON));
    }
  }
}
