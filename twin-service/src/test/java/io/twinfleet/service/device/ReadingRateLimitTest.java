package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReadingRateLimitTest {

  @Test
  void aFullBucketTakesABurstThenOneReadingPerRefill() {
    ReadingRateLimit limit = new ReadingRateLimit(10, 3);
    ReadingRateLimit.Allowance a = new ReadingRateLimit.Allowance();
    for (int i = 0; i < 3; i++) {
      assertNull(a.take(1_000, limit), "reading " + i + " of the burst");
    }
    assertEquals(Duration.ofMillis(100), a.take(1_000, limit));
    assertEquals(Duration.ofMillis(40), a.take(1_060, limit), "a refused reading takes nothing");
    assertNull(a.take(1_100, limit));
    assertEquals(Duration.ofMillis(100), a.take(1_100, limit));
  }

  @Test
  void theBucketHoldsNoMoreThanTheBurst() {
    ReadingRateLimit limit = new ReadingRateLimit(10, 3);
    ReadingRateLimit.Allowance a = new ReadingRateLimit.Allowance();
    assertNull(a.take(0, limit));
    long later = 3_600_000;
    for (int i = 0; i < 3; i++) {
      assertNull(a.take(later, limit));
    }
    assertEquals(Duration.ofMillis(100), a.take(later, limit), "an hour of silence saves up three readings, not 36,000");
  }

  @Test
  void timeGoingBackGivesNothing() {
    ReadingRateLimit limit = new ReadingRateLimit(1, 1);
    ReadingRateLimit.Allowance a = new ReadingRateLimit.Allowance();
    assertNull(a.take(10_000, limit));
    assertEquals(Duration.ofMillis(1000), a.take(5_000, limit));
    assertEquals(Duration.ofMillis(500), a.take(10_500, limit));
  }

  @Test
  void zeroPerSecondIsNoLimit() {
    ReadingRateLimit.Allowance a = new ReadingRateLimit.Allowance();
    for (int i = 0; i < 10_000; i++) {
      assertNull(a.take(0, ReadingRateLimit.OFF));
    }
  }

  @Test
  void settingsAreReadAndChecked() {
    assertEquals(new ReadingRateLimit(100, 200), DeviceSettings.fromConfig(ConfigFactory.load()).readingRateLimit());
    assertEquals(new ReadingRateLimit(2.5, 5), ReadingRateLimit.fromConfig(ConfigFactory.parseString("reading-rate-limit { per-second = 2.5, burst = 5 }")));
    assertThrows(IllegalArgumentException.class, () -> new ReadingRateLimit(-1, 5));
    assertThrows(IllegalArgumentException.class, () -> new ReadingRateLimit(Double.NaN, 5));
    assertThrows(IllegalArgumentException.class, () -> new ReadingRateLimit(5, 0));
  }
}
