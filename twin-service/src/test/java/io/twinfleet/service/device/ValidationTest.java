package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.service.device.Validation.InvalidField;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidationTest {

  private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");
  private static final DeviceSettings SETTINGS = DeviceSettings.defaults();

  @ParameterizedTest
  @ValueSource(strings = {"a", "dev-1", "A.b_c:d-9", "x23456789012345678901234567890123456789012345678901234567890123"})
  void acceptsWellFormedIds(String id) {
    assertEquals(id, Validation.id("device_id", id));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-lead", ".lead", "has space", "semi;colon", "ü", "x2345678901234567890123456789012345678901234567890123456789012345"})
  void rejectsMalformedIdsNamingTheField(String id) {
    InvalidField e = assertThrows(InvalidField.class, () -> Validation.id("customer_id", id));
    assertTrue(e.getMessage().startsWith("customer_id: "), e.getMessage());
  }

  @Test
  void batteryMustBeAPercentage() {
    assertEquals(0, Validation.percent("battery_percent", 0));
    assertEquals(100, Validation.percent("battery_percent", 100));
    assertEquals("battery_percent: 150 is outside 0..100",
        assertThrows(InvalidField.class, () -> Validation.percent("battery_percent", 150)).getMessage());
    assertThrows(InvalidField.class, () -> Validation.percent("battery_percent", -1));
  }

  @Test
  void timestampsMayRunAheadOnlyByTheAllowedSkew() {
    Validation.observedAt("observed_at", NOW.plus(SETTINGS.maxClockSkew()), NOW, SETTINGS);
    InvalidField ahead = assertThrows(InvalidField.class,
        () -> Validation.observedAt("observed_at", NOW.plus(Duration.ofDays(1)), NOW, SETTINGS));
    assertTrue(ahead.getMessage().contains("ahead of the service clock"), ahead.getMessage());
    assertThrows(InvalidField.class, () -> Validation.observedAt("observed_at", NOW.minus(Duration.ofDays(8)), NOW, SETTINGS));
    assertThrows(InvalidField.class, () -> Validation.observedAt("observed_at", null, NOW, SETTINGS));
  }

  @Test
  void heartbeatMustBeBetweenTenSecondsAndADay() {
    Validation.heartbeat("heartbeat_interval", Duration.ofSeconds(10));
    Validation.heartbeat("heartbeat_interval", Duration.ofHours(24));
    assertThrows(InvalidField.class, () -> Validation.heartbeat("heartbeat_interval", Duration.ofSeconds(9)));
    assertThrows(InvalidField.class, () -> Validation.heartbeat("heartbeat_interval", Duration.ofHours(25)));
  }

  @Test
  void textIsShortAndPrintable() {
    assertThrows(InvalidField.class, () -> Validation.text("model", ""));
    assertThrows(InvalidField.class, () -> Validation.text("model", "a\nb"));
    assertThrows(InvalidField.class, () -> Validation.text("model", "m".repeat(65)));
    assertEquals("Thermostat T3 \u00e9t\u00e9 \uD83D\uDE00", Validation.text("model", "Thermostat T3 \u00e9t\u00e9 \uD83D\uDE00"));
    for (String hidden : new String[] {"ab\u200bc", "\uFEFFmodel", "a\u202Eb", "a\u2028b", "a\uD800b", "a\u0378b"}) {
      InvalidField e = assertThrows(InvalidField.class, () -> Validation.text("model", hidden), hidden);
      assertTrue(e.getMessage().startsWith("model: character U+"), e.getMessage());
    }
  }

  @Test
  void notesTakeLinesAndEmojiButNoHiddenTricks() {
    String family = "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67";
    assertEquals("line one\nline two\t" + family, Validation.note("note", "line one\nline two\t" + family, 500));
    assertThrows(InvalidField.class, () -> Validation.note("note", "bell\u0007", 500));
    InvalidField override = assertThrows(InvalidField.class, () -> Validation.note("note", "refund \u202E0001$", 500));
    assertEquals("note: character U+202E at 7 is not allowed", override.getMessage());
    assertThrows(InvalidField.class, () -> Validation.note("note", "a\u2066b", 500));
    assertThrows(InvalidField.class, () -> Validation.note("note", "lone \uDC00", 500));
    assertThrows(InvalidField.class, () -> Validation.note("note", "x".repeat(501), 500));
  }
}
