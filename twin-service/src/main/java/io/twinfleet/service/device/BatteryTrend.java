package io.twinfleet.service.device;

import java.time.Duration;
import java.time.Instant;

/**
 * A battery's recent drain, for BATTERY_FORECAST: when the reported level first fell to each of its
 * last few values (a whole-percent level steps down when the real one crosses it, so these are
 * exact points of the drain line), and the least-squares line through them. A rise of
 * {@link #CHARGE_RISE} points or more is a charge or new batteries: the samples start again.
 *
 * <p>The first level seen, and the level after a charge, only start the count: a sample is a step
 * below the lowest level so far, whose time is when the level crossed it. Kept in memory with the
 * live telemetry (about 150 bytes for a device with a battery) and stored with its checkpoints as
 * text ({@link #packed}), so a twin that stops and starts again goes on with its trend.
 */
final class BatteryTrend {

  static final int MAX_SAMPLES = 32;
  static final int CHARGE_RISE = 5;
  /** Fewest steps down to draw a line through. */
  static final int MIN_SAMPLES = 3;

  /** What the trend says at a given time. */
  enum Outlook {
    /** Empty within the horizon. */
    EMPTY_SOON,
    /** Not draining, or empty beyond twice the horizon. */
    FINE,
    /** Charged since the samples began and too few since to say more. */
    CHARGED,
    /** Too few samples or too short a span, a level that has held much longer than the line allows, or in between. */
    UNKNOWN
  }

  /** Epoch seconds of each step down, oldest first from {@code first}, a ring of {@code seconds.length}. */
  private final long[] seconds;
  private final byte[] levels;
  private int first;
  private int count;
  private static final int NONE_YET = -1;
  /** The lowest level since the samples began; NONE_YET before the first. */
  private int low = NONE_YET;
  private boolean charged;
  /** The line's empty time in epoch seconds, Long.MAX_VALUE when not draining; valid when count >= MIN_SAMPLES. */
  private long emptyAt;
  /** Seconds the line takes per point. */
  private double secondsPerPoint;

  BatteryTrend(int samples) {
    seconds = new long[samples];
    levels = new byte[samples];
  }

  /** Takes the level reported at {@code at}; returns whether the trend changed. */
  boolean record(int level, Instant at) {
    if (low == NONE_YET) {
      low = level;
      return false;
    }
    if (level >= low + CHARGE_RISE) {
      count = 0;
      first = 0;
      charged = true;
      low = level;
      return true;
    }
    if (level >= low) {
      return false; // the same level, or a small rise of a reading's noise
    }
    low = level;
    add(level, at);
    return true;
  }

  /**
   * What the trend says at {@code now}, once its samples span {@code minSpan} or fill the ring (a
   * fast drain fills it sooner; a few quick steps down alone are no trend).
   */
  Outlook outlook(Instant now, Duration horizon, Duration minSpan) {
    if (count < MIN_SAMPLES || count < seconds.length && seconds[(first + count - 1) % seconds.length] - seconds[first] < minSpan.getSeconds()) {
      return charged ? Outlook.CHARGED : Outlook.UNKNOWN;
    }
    if (emptyAt == Long.MAX_VALUE) {
      return Outlook.FINE;
    }
    long nowSeconds = now.getEpochSecond();
    long last = seconds[(first + count - 1) % seconds.length];
    if (nowSeconds - last > 3 * secondsPerPoint) {
      return Outlook.UNKNOWN; // it stopped draining as the line says (plugged in?); the next step tells
    }
    if (emptyAt <= nowSeconds + horizon.getSeconds()) {
      return Outlook.EMPTY_SOON;
    }
    return emptyAt > nowSeconds + 2 * horizon.getSeconds() ? Outlook.FINE : Outlook.UNKNOWN;
  }

  /** When the line reaches 0%, or null when it does not say (too few samples, or not draining). */
  Instant emptyAt() {
    return count < MIN_SAMPLES || emptyAt == Long.MAX_VALUE ? null : Instant.ofEpochSecond(emptyAt);
  }

  /**
   * The trend as text, for a checkpoint: {@code low;charged;seconds:level,...} oldest first;
   * {@link #unpacked} reads it back.
   */
  String packed() {
    StringBuilder out = new StringBuilder(16 + 16 * count).append(low).append(';').append(charged ? 1 : 0).append(';');
    for (int k = 0; k < count; k++) {
      int i = (first + k) % seconds.length;
      out.append(k == 0 ? "" : ",").append(seconds[i]).append(':').append(levels[i]);
    }
    return out.toString();
  }

  /** A trend of {@code samples} capacity from {@link #packed} text (its latest samples if it held more). */
  static BatteryTrend unpacked(String packed, int samples) {
    BatteryTrend trend = new BatteryTrend(samples);
    String[] parts = packed.split(";", -1);
    trend.low = Integer.parseInt(parts[0]);
    trend.charged = parts[1].equals("1");
    if (parts.length > 2 && !parts[2].isEmpty()) {
      for (String sample : parts[2].split(",")) {
        int colon = sample.indexOf(':');
        trend.add(Integer.parseInt(sample.substring(colon + 1)), Instant.ofEpochSecond(Long.parseLong(sample.substring(0, colon))));
      }
    }
    return trend;
  }

  /** A trend that has seen {@code level} and no step yet: what a twin knows of a battery whose trend was never stored. */
  static BatteryTrend startingAt(int level, int samples) {
    BatteryTrend trend = new BatteryTrend(samples);
    trend.low = level;
    return trend;
  }

  private void add(int level, Instant at) {
    int slot;
    if (count < seconds.length) {
      slot = (first + count) % seconds.length;
      count++;
    } else {
      slot = first;
      first = (first + 1) % seconds.length;
    }
    seconds[slot] = at.getEpochSecond();
    levels[slot] = (byte) level;
    fit();
  }

  /** The least-squares line of level over time through the samples (times relative to the first, for precision). */
  private void fit() {
    if (count < MIN_SAMPLES) {
      return;
    }
    long t0 = seconds[first];
    double meanT = 0;
    double meanL = 0;
    for (int k = 0; k < count; k++) {
      int i = (first + k) % seconds.length;
      meanT += seconds[i] - t0;
      meanL += levels[i];
    }
    meanT /= count;
    meanL /= count;
    double covariance = 0;
    double variance = 0;
    for (int k = 0; k < count; k++) {
      int i = (first + k) % seconds.length;
      double dt = seconds[i] - t0 - meanT;
      covariance += dt * (levels[i] - meanL);
      variance += dt * dt;
    }
    double slope = variance == 0 ? 0 : covariance / variance; // points per second
    if (slope >= 0) {
      emptyAt = Long.MAX_VALUE;
      secondsPerPoint = Double.MAX_VALUE;
      return;
    }
    emptyAt = t0 + Math.round(meanT - meanL / slope);
    secondsPerPoint = -1 / slope;
  }
}
