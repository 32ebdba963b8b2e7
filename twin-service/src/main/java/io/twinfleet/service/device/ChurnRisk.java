package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.device.DeviceState.OpenFault;
import io.twinfleet.service.device.DeviceState.Registered;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How likely a customer is to give up on a device, 0 (no sign) to 100, and why: each factor is a
 * share from 0 to 1, the score is the weighted mean of the shares ({@link ChurnRiskSettings}) times
 * 100, and a factor's points are its part of that sum (rounded), given for the {@link #TOP} that add
 * most. A pure function of what the twin knows and the time.
 */
public record ChurnRisk(int score, List<Scored> factors, Instant at) implements CborSerializable {

  /** The factors; each names its setting under {@code twinfleet.churn-risk.weights}. */
  public enum Factor {
    /** Uptime over the last 30 days: none at or above uptime-good, full at or below uptime-bad. */
    UPTIME("uptime"),
    /** Disconnects in the last 24 hours: full at flapping-disconnects. */
    FLAPPING("flapping"),
    /** The worst open fault: critical full, warning half, info a tenth. */
    FAULTS("faults"),
    /** Claim to activation (or to now, while onboarding): none up to onboarding-good, full from onboarding-bad. */
    ONBOARDING_TIME("onboarding-time"),
    /** Support contacts and complaints (which count twice) within support-window: full at support-contacts. */
    SUPPORT_CONTACTS("support-contacts"),
    /** The stage itself, by stage-risk (new customers and devices at their end of life are likelier to leave). */
    STAGE("stage");

    private final String setting;

    Factor(String setting) {
      this.setting = setting;
    }

    public String setting() {
      return setting;
    }
  }

  /** A factor's points and the measure behind them (a ratio, a count, days, a severity or stage ordinal). */
  public record Scored(Factor factor, int points, double measure) implements CborSerializable {}

  /** How many factors are given with a score. */
  public static final int TOP = 3;

  /** No risk: the device is not claimed, or retired. */
  public static final ChurnRisk NONE = new ChurnRisk(0, List.of(), null);

  /** The risk of a claimed, not retired device as {@code view} shows it at {@code now}; {@link #NONE} otherwise. */
  static ChurnRisk of(Registered s, DeviceView view, Instant now, ChurnRiskSettings settings) {
    if (!s.claimed() || s.retired()) {
      return NONE;
    }
    List<Measured> all = new ArrayList<>(6);
    DeviceView.Uptimes uptime = view.uptime();
    if (uptime != null && uptime.last30d() != null) {
      double ratio = uptime.last30d().ratio();
      all.add(new Measured(Factor.UPTIME, share(settings.uptimeGood() - ratio, settings.uptimeGood() - settings.uptimeBad()), ratio));
    }
    int disconnects = disconnectsInLastDay(s, view, now);
    all.add(new Measured(Factor.FLAPPING, share(disconnects, settings.flappingDisconnects()), disconnects));
    Severity worst = null;
    for (OpenFault f : view.faults()) {
      worst = worst == null || f.severity().compareTo(worst) > 0 ? f.severity() : worst;
    }
    if (worst != null) {
      double severity = switch (worst) {
        case CRITICAL -> 1.0;
        case WARNING -> 0.5;
        case INFO -> 0.1;
      };
      all.add(new Measured(Factor.FAULTS, severity, worst.ordinal()));
    }
    Instant activated = s.journey().activatedAt();
    Duration onboarding = Duration.between(s.owner().claimedAt(), activated != null ? activated : now);
    all.add(new Measured(Factor.ONBOARDING_TIME,
        share(onboarding.minus(settings.onboardingGood()).toSeconds(), settings.onboardingBad().minus(settings.onboardingGood()).toSeconds()),
        onboarding.toSeconds() / 86_400.0));
    int contacts = 0;
    Instant since = now.minus(settings.supportWindow());
    for (Touchpoint t : s.journey().touchpoints()) {
      if (!t.at().isBefore(since)) {
        contacts += t.kind() == TouchpointKind.COMPLAINT ? 2 : t.kind() == TouchpointKind.SUPPORT_CONTACT ? 1 : 0;
      }
    }
    all.add(new Measured(Factor.SUPPORT_CONTACTS, share(contacts, settings.supportContacts()), contacts));
    all.add(new Measured(Factor.STAGE, settings.stageRisk().getOrDefault(view.stage(), 0.0), view.stage().ordinal()));

    double total = settings.totalWeight();
    double sum = 0;
    List<Scored> scored = new ArrayList<>(all.size());
    for (Measured m : all) {
      double weighted = settings.weights().get(m.factor()) * m.share();
      sum += weighted;
      scored.add(new Scored(m.factor(), (int) Math.round(100 * weighted / total), m.measure()));
    }
    List<Scored> top = scored.stream()
        .filter(f -> f.points() > 0)
        .sorted(Comparator.comparingInt(Scored::points).reversed().thenComparing(Scored::factor))
        .limit(TOP)
        .toList();
    return new ChurnRisk((int) Math.round(100 * sum / total), top, now);
  }

  private record Measured(Factor factor, double share, double measure) {}

  /** What a factor measured, in words; {@code stage} tells whether onboarding is still going on. */
  public static String reason(Factor factor, double measure, Stage stage) {
    return switch (factor) {
      case UPTIME -> String.format(java.util.Locale.ROOT, "uptime %.1f%% over the last 30 days", 100 * measure);
      case FLAPPING -> (long) measure + " disconnects in the last 24 hours";
      case FAULTS -> "a " + Severity.values()[(int) measure] + " fault is open";
      case ONBOARDING_TIME -> String.format(java.util.Locale.ROOT,
          stage == Stage.ONBOARDING ? "claimed %.1f days ago and not activated yet" : "%.1f days from claim to activation", measure);
      case SUPPORT_CONTACTS -> (long) measure + " support contacts lately (a complaint counts twice)";
      case STAGE -> "stage " + Stage.values()[(int) measure];
    };
  }

  /** The factors as text, for a read model: {@code FACTOR:points:measure} joined by ';'. */
  public static String encode(List<Scored> factors) {
    StringBuilder b = new StringBuilder();
    for (Scored f : factors) {
      b.append(b.isEmpty() ? "" : ";").append(f.factor()).append(':').append(f.points()).append(':').append(f.measure());
    }
    return b.toString();
  }

  /** The factors from {@link #encode}'s text. */
  public static List<Scored> decode(String text) {
    if (text == null || text.isEmpty()) {
      return List.of();
    }
    List<Scored> factors = new ArrayList<>(TOP);
    for (String part : text.split(";")) {
      String[] f = part.split(":");
      factors.add(new Scored(Factor.valueOf(f[0]), Integer.parseInt(f[1]), Double.parseDouble(f[2])));
    }
    return factors;
  }

  /**
   * Whether a twin that last stored {@code storedScore} with factors {@code storedFactors} (as
   * {@link #factorCode}) should store this risk: it moved by store-change points or more, its
   * factors changed, or it became zero or stopped being zero.
   */
  boolean worthStoring(int storedScore, int storedFactors, ChurnRiskSettings settings) {
    return Math.abs(score - storedScore) >= settings.storeChange()
        || factorCode(factors) != storedFactors
        || (score == 0) != (storedScore == 0);
  }

  /** The factors in their order, as one int (4 bits each), for a twin to remember cheaply. */
  static int factorCode(List<Scored> factors) {
    int code = 0;
    for (Scored f : factors) {
      code = code << 4 | f.factor().ordinal() + 1;
    }
    return code;
  }

  private static int disconnectsInLastDay(Registered s, DeviceView view, Instant now) {
    Instant openSince = !view.online() && view.lastSeen() != null ? view.connectivitySince() : null;
    return s.disconnectsSince(now.minus(Duration.ofDays(1)), openSince).size();
  }

  /** {@code part / whole} within 0 to 1. */
  private static double share(double part, double whole) {
    return whole <= 0 ? 0 : Math.max(0, Math.min(1, part / whole));
  }
}
