package io.twinfleet.service.device;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;

/**
 * When a model's devices reach the end of their useful life ({@code twinfleet.journey} settings):
 * the model's end-of-support date, or its expected lifetime in service counted from activation,
 * whichever comes first. Models not listed use the default lifetime, if there is one.
 */
public record Lifetimes(Map<String, ModelLife> models, Duration defaultLifetime) {

  /** One model's limits; either may be null (no such limit). */
  public record ModelLife(Instant endOfSupport, Duration expectedLifetime) {}

  public static final Lifetimes NONE = new Lifetimes(Map.of(), null);

  public Lifetimes {
    models = Map.copyOf(models);
  }

  /**
   * When a device of {@code model} claimed at {@code claimedAt} and activated at {@code activatedAt}
   * (null while it is not) reaches END_OF_LIFE by time, or null if it never does. Never before its
   * claim: a device claimed after its model's end of support reaches it at the claim.
   */
  public Instant endOfLifeAt(String model, Instant claimedAt, Instant activatedAt) {
    ModelLife life = models.get(model);
    Instant endOfSupport = life == null ? null : life.endOfSupport();
    Duration lifetime = life != null && life.expectedLifetime() != null ? life.expectedLifetime() : defaultLifetime;
    Instant due = endOfSupport;
    if (activatedAt != null && lifetime != null) {
      Instant worn = activatedAt.plus(lifetime);
      due = due == null || worn.isBefore(due) ? worn : due;
    }
    return due == null || due.isAfter(claimedAt) ? due : claimedAt;
  }

  /**
   * Reads {@code twinfleet.journey}: {@code default-expected-lifetime} (a duration, or "off") and
   * {@code models.<name>} with {@code end-of-support} (a date, UTC) and/or {@code expected-lifetime}.
   */
  public static Lifetimes fromConfig(Config root) {
    Config c = root.getConfig("twinfleet.journey");
    Duration defaultLifetime = c.getString("default-expected-lifetime").equals("off") ? null : positive(c, "default-expected-lifetime");
    Map<String, ModelLife> models = new HashMap<>();
    Config all = c.getConfig("models");
    for (String name : all.root().keySet()) {
      Config m = all.getConfig("\"" + name + "\"");
      for (String key : m.root().keySet()) {
        if (!key.equals("end-of-support") && !key.equals("expected-lifetime")) {
          throw new ConfigException.BadPath("twinfleet.journey.models." + name + "." + key, "unknown setting; end-of-support or expected-lifetime");
        }
      }
      Instant endOfSupport = null;
      if (m.hasPath("end-of-support")) {
        try {
          endOfSupport = LocalDate.parse(m.getString("end-of-support")).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
          throw new ConfigException.BadValue("twinfleet.journey.models." + name + ".end-of-support", "not a date like 2031-12-31", e);
        }
      }
      Duration lifetime = m.hasPath("expected-lifetime") ? positive(m, "expected-lifetime") : null;
      models.put(name, new ModelLife(endOfSupport, lifetime));
    }
    return new Lifetimes(models, defaultLifetime);
  }

  private static Duration positive(Config c, String path) {
    Duration d = c.getDuration(path);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException.BadValue(path, "must be positive");
    }
    return d;
  }
}
