package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class ChurnRiskSettingsTest {

  private static final Config SHIPPED = ConfigFactory.parseResources("twinfleet.conf");

  private static ChurnRiskSettings with(String overrides) {
    return ChurnRiskSettings.fromConfig(ConfigFactory.parseString(overrides).withFallback(SHIPPED).resolve());
  }

  @Test
  void theShippedSettingsAreTheDocumentedDefaults() {
    assertEquals(ChurnRiskSettings.defaults(), ChurnRiskSettings.fromConfig(SHIPPED.resolve()));
  }

  @Test
  void weightsComeFromSettingsAndNeedNotAddUpTo100() {
    ChurnRiskSettings s = with("twinfleet.churn-risk.weights { uptime = 1, flapping = 0, faults = 0, onboarding-time = 0, support-contacts = 0, stage = 1 }");
    assertEquals(2, s.totalWeight());
    assertEquals(1, s.weights().get(ChurnRisk.Factor.UPTIME));
  }

  @Test
  void mistakesAreRefusedByName() {
    var unknown = assertThrows(ConfigException.class, () -> with("twinfleet.churn-risk.weights.uptim = 3"));
    assertTrue(unknown.getMessage().contains("uptim"), unknown.getMessage());
    assertThrows(IllegalArgumentException.class, () -> with("twinfleet.churn-risk.uptime-bad = 0.995"));
    assertThrows(ConfigException.class, () -> with("twinfleet.churn-risk.stage-risk.MATURE = 1.5"));
    assertThrows(IllegalArgumentException.class, () -> with(
        "twinfleet.churn-risk.weights { uptime = 0, flapping = 0, faults = 0, onboarding-time = 0, support-contacts = 0, stage = 0 }"));
  }
}
