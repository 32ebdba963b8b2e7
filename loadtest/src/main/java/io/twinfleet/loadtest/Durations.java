package io.twinfleet.loadtest;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people type and read them: 90s, 10m, 1h, 2d. */
final class Durations {

  private static final Pattern TEXT = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Durations() {}

  static Duration parse(String option, String text) {
    Matcher m = TEXT.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(option + ": a duration like 500ms, 90s, 10m, 1h or 2d, not '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** A simulated span, shortest readable form: 45 s, 12 min, 3.5 h, 12.3 days. */
  static String human(long millis) {
    if (millis < 60_000) {
      return String.format(Locale.ROOT, "%.0f s", millis / 1e3);
    }
    if (millis < 3_600_000) {
      return String.format(Locale.ROOT, "%.0f min", millis / 6e4);
    }
    if (millis < 86_400_000) {
      return String.format(Locale.ROOT, "%.1f h", millis / 3.6e6);
    }
    return String.format(Locale.ROOT, "%.1f days", millis / 8.64e7);
  }
}
