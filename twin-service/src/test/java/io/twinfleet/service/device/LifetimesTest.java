package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LifetimesTest {

  private static final Instant CLAIMED = Instant.parse("2026-03-01T10:00:00Z");
  private static final Instant ACTIVATED = Instant.parse("2026-03-02T12:00:00Z");
  private static final Instant SUPPORT_ENDS = Instant.parse("2027-01-01T00:00:00Z");

  private static Lifetimes parse(String journey) {
    return Lifetimes.fromConfig(ConfigFactory.parseString("twinfleet.journey { " + journey + " }"));
  }

  @Test
  void theEarlierOfEndOfSupportAndLifetimeInServiceCounts() {
    Lifetimes l = new Lifetimes(Map.of(
        "lock", new Lifetimes.ModelLife(SUPPORT_ENDS, Duration.ofDays(100)),
        "camera", new Lifetimes.ModelLife(SUPPORT_ENDS, Duration.ofDays(1000))), null);
    assertEquals(ACTIVATED.plus(Duration.ofDays(100)), l.endOfLifeAt("lock", CLAIMED, ACTIVATED));
    assertEquals(SUPPORT_ENDS, l.endOfLifeAt("camera", CLAIMED, ACTIVATED));
    assertEquals(SUPPORT_ENDS, l.endOfLifeAt("lock", CLAIMED, null), "before activation only the end of support counts");
    assertNull(l.endOfLifeAt("thermostat", CLAIMED, ACTIVATED), "a model without limits lives on");
  }

  @Test
  void neverBeforeTheClaim() {
    Lifetimes l = new Lifetimes(Map.of("lock", new Lifetimes.ModelLife(CLAIMED.minus(Duration.ofDays(5)), null)), null);
    assertEquals(CLAIMED, l.endOfLifeAt("lock", CLAIMED, null));
  }

  @Test
  void settingsNameModelsAndADefault() {
    Lifetimes l = parse("""
        default-expected-lifetime = 3650 days
        models { "lock-l1" { end-of-support = "2027-01-01" }, "cam.c2" { expected-lifetime = 400 days } }
        """);
    assertEquals(SUPPORT_ENDS, l.endOfLifeAt("lock-l1", CLAIMED, ACTIVATED));
    assertEquals(ACTIVATED.plus(Duration.ofDays(400)), l.endOfLifeAt("cam.c2", CLAIMED, ACTIVATED), "dots in names are fine");
    assertEquals(ACTIVATED.plus(Duration.ofDays(3650)), l.endOfLifeAt("other", CLAIMED, ACTIVATED));
    assertNull(parse("default-expected-lifetime = off\nmodels {}").endOfLifeAt("other", CLAIMED, ACTIVATED));
  }

  @Test
  void mistakesInTheSettingsAreRefusedByName() {
    var typo = assertThrows(ConfigException.class, () -> parse("default-expected-lifetime = off\nmodels { x { end-of-suport = \"2027-01-01\" } }"));
    assertTrue(typo.getMessage().contains("end-of-suport"), typo.getMessage());
    var date = assertThrows(ConfigException.class, () -> parse("default-expected-lifetime = off\nmodels { x { end-of-support = \"01/01/2027\" } }"));
    assertTrue(date.getMessage().contains("end-of-support"), date.getMessage());
    assertThrows(ConfigException.class, () -> parse("default-expected-lifetime = 0 days\nmodels {}"));
  }
}
