package io.twinfleet.service.site;

import com.typesafe.config.Config;
import java.time.Duration;

/** The {@code twinfleet.sites} settings, read once. */
public record SiteSettings(double defaultTarget, int snapshotEvery, int maxMaintenanceWindows, Duration reorderWindow) {

  public SiteSettings {
    if (!(defaultTarget > 0 && defaultTarget <= 1)) {
      throw new IllegalArgumentException("twinfleet.sites.default-sla-target must be above 0 and at most 1, not " + defaultTarget);
    }
    if (snapshotEvery < 1 || maxMaintenanceWindows < 1) {
      throw new IllegalArgumentException("twinfleet.sites.snapshot-every and max-maintenance-windows must be positive");
    }
    if (reorderWindow.isNegative()) {
      throw new IllegalArgumentException("twinfleet.sites.reorder-window must not be negative");
    }
  }

  public static SiteSettings fromConfig(Config root) {
    Config c = root.getConfig("twinfleet.sites");
    return new SiteSettings(c.getDouble("default-sla-target"), c.getInt("snapshot-every"), c.getInt("max-maintenance-windows"),
        c.getDuration("reorder-window"));
  }

  /** Defaults as in twinfleet.conf, for tests. */
  public static SiteSettings defaults() {
    return new SiteSettings(0.99, 100, 200, Duration.ofMinutes(15));
  }
}
