package io.twinfleet.service.device;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/** The {@code twinfleet.churn-risk} settings: how much each factor weighs and where its risk begins and is full. */
public record ChurnRiskSettings(
    Map<ChurnRisk.Factor, Integer> weights,
    double uptimeGood,
    double uptimeBad,
    int flappingDisconnects,
    Duration onboardingGood,
    Duration onboardingBad,
    int supportContacts,
    Duration supportWindow,
    Map<Stage, Double> stageRisk,
    int storeChange,
    Duration recheckEvery) {

  public ChurnRiskSettings {
    weights = Map.copyOf(weights);
    stageRisk = Map.copyOf(stageRisk);
    if (weights.values().stream().mapToInt(Integer::intValue).sum() <= 0 || weights.values().stream().anyMatch(w -> w < 0)) {
      throw new IllegalArgumentException("churn-risk.weights must be zero or more and not all zero");
    }
    if (!(uptimeBad < uptimeGood) || uptimeBad < 0 || uptimeGood > 1) {
      throw new IllegalArgumentException("churn-risk: 0 <= uptime-bad < uptime-good <= 1");
    }
    if (onboardingBad.compareTo(onboardingGood) <= 0) {
      throw new IllegalArgumentException("churn-risk: onboarding-bad must be longer than onboarding-good");
    }
    if (flappingDisconnects < 1 || supportContacts < 1 || storeChange < 1) {
      throw new IllegalArgumentException("churn-risk: flapping-disconnects, support-contacts and store-change must be positive");
    }
  }

  /** The weights of the DESIGN defaults: they add up to 100, so a factor's weight is its most points. */
  public static ChurnRiskSettings defaults() {
    Map<ChurnRisk.Factor, Integer> weights = new EnumMap<>(ChurnRisk.Factor.class);
    weights.put(ChurnRisk.Factor.UPTIME, 30);
    weights.put(ChurnRisk.Factor.FLAPPING, 15);
    weights.put(ChurnRisk.Factor.FAULTS, 20);
    weights.put(ChurnRisk.Factor.ONBOARDING_TIME, 10);
    weights.put(ChurnRisk.Factor.SUPPORT_CONTACTS, 15);
    weights.put(ChurnRisk.Factor.STAGE, 10);
    return new ChurnRiskSettings(weights, 0.99, 0.90, 5, Duration.ofDays(1), Duration.ofDays(7), 3, Duration.ofDays(90),
        Map.of(Stage.ONBOARDING, 0.6, Stage.DAY_30, 0.5, Stage.DAY_60, 0.3, Stage.DAY_90, 0.2, Stage.MATURE, 0.1, Stage.END_OF_LIFE, 0.8),
        5, Duration.ofDays(1));
  }

  public static ChurnRiskSettings fromConfig(Config root) {
    Config c = root.getConfig("twinfleet.churn-risk");
    Map<ChurnRisk.Factor, Integer> weights = new EnumMap<>(ChurnRisk.Factor.class);
    Config w = c.getConfig("weights");
    for (ChurnRisk.Factor f : ChurnRisk.Factor.values()) {
      weights.put(f, w.getInt(f.setting()));
    }
    for (String key : w.root().keySet()) {
      if (weights.keySet().stream().noneMatch(f -> f.setting().equals(key))) {
        throw new ConfigException.BadPath("twinfleet.churn-risk.weights." + key, "not a factor");
      }
    }
    Map<Stage, Double> stageRisk = new EnumMap<>(Stage.class);
    Config s = c.getConfig("stage-risk");
    for (Stage stage : Stage.values()) {
      if (stage != Stage.UNCLAIMED) {
        double r = s.getDouble(stage.name());
        if (r < 0 || r > 1) {
          throw new ConfigException.BadValue("twinfleet.churn-risk.stage-risk." + stage.name(), "must be 0 to 1");
        }
        stageRisk.put(stage, r);
      }
    }
    return new ChurnRiskSettings(weights, c.getDouble("uptime-good"), c.getDouble("uptime-bad"), c.getInt("flapping-disconnects"),
        c.getDuration("onboarding-good"), c.getDuration("onboarding-bad"), c.getInt("support-contacts"), c.getDuration("support-window"),
        stageRisk, c.getInt("store-change"), c.getDuration("recheck-every"));
  }

  int totalWeight() {
    return weights.values().stream().mapToInt(Integer::intValue).sum();
  }
}
