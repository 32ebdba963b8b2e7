package io.twinfleet.service.device;

import io.twinfleet.service.device.DeviceState.OpenFault;
import io.twinfleet.service.device.DeviceState.Registered;
import io.twinfleet.service.device.DeviceTwin.AlertEnded;
import io.twinfleet.service.device.DeviceTwin.AlertRaised;
import io.twinfleet.service.device.DeviceTwin.AlertSubject;
import io.twinfleet.service.device.DeviceTwin.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which alerts a device's state calls for, as pure functions of the state (with the facts about to
 * be stored applied), the live telemetry and {@code now}: an alert is raised when its condition
 * begins and no alert of its kind and subject is going on, and ends when the condition does, so
 * each episode has one alert however often the device reports. FLAPPING and BATTERY_FORECAST have
 * a band between raising and ending in which neither happens, so a value near the threshold raises
 * no storm. An episode noticed only after it ended (a twin woken by the report that ends it) raises
 * nothing. A retired device's alerts all end.
 */
final class AlertRules {

  private AlertRules() {}

  /** A condition that holds now: its alert's kind, subject and detail, and when it began. */
  private record Holds(AlertKind kind, String subject, String detail, Instant since) {}

  /** The alert events {@code s} calls for at {@code now}; empty when nothing changes. */
  static List<Event> changes(Registered s, LiveTelemetry live, Instant now, DeviceSettings settings) {
    AlertSettings a = settings.alerts();
    List<Holds> holding = new ArrayList<>(0);
    Set<AlertKind> over = new HashSet<>(4); // kinds whose condition is over (CRITICAL_FAULT: per code, below)
    if (s.retired()) {
      over.addAll(List.of(AlertKind.values()));
    } else {
      batteryLow(s, holding, over);
      batteryForecast(live, now, a, holding, over);
      onboarding(s, now, a, holding, over);
      offline(s, now, a, holding, over);
      flapping(s, now, a, holding, over);
    }
    List<Event> events = new ArrayList<>(0);
    Registered next = s;
    AlertSubject device = null;
    for (Alert ongoing : s.alerts().ongoing()) {
      // A critical fault's episode lasts while the fault is open at all: one that drops below
      // critical and back raises no second alert.
      boolean ends = ongoing.kind() == AlertKind.CRITICAL_FAULT
          ? s.retired() || !faultOpen(s, ongoing.subject())
          : over.contains(ongoing.kind());
      if (ends) {
        device = device != null ? device : subjectOf(s);
        Alert ended = ongoing.ended(now);
        events.add(new AlertEnded(ended, device, now));
        next = next.alertChanged(ended);
      }
    }
    if (!s.retired()) {
      for (OpenFault f : s.telemetry().faults()) {
        if (f.severity() == Severity.CRITICAL) {
          // Raised as of now: the fault may have been open at a lower severity long before.
          holding.add(new Holds(AlertKind.CRITICAL_FAULT, f.code(), "critical fault " + f.code(), null));
        }
      }
    }
    for (Holds h : holding) {
      if (next.alerts().ongoing(h.kind(), h.subject()) == null) {
        device = device != null ? device : subjectOf(s);
        Instant since = h.since() != null ? h.since() : now;
        Alert raised = new Alert(next.alerts().raised() + 1, h.kind(), h.subject(), h.detail(), since, null, null, null, null, null);
        events.add(new AlertRaised(raised, device, now));
        next = next.alertChanged(raised);
      }
    }
    return events;
  }

  /**
   * The alert events of a report that changed no stored fact: only the battery trend moves then,
   * so only BATTERY_FORECAST may begin or end (checked without allocating, as every report is).
   */
  static List<Event> onPlainReport(Registered s, LiveTelemetry live, Instant now, DeviceSettings settings) {
    if (live.trend == null || s.retired()) {
      return List.of();
    }
    BatteryTrend.Outlook outlook = live.trend.outlook(now, settings.alerts().batteryForecastHorizon(), settings.alerts().batteryForecastMinSpan());
    boolean ongoing = s.alerts().ongoing(AlertKind.BATTERY_FORECAST, "") != null;
    boolean begins = outlook == BatteryTrend.Outlook.EMPTY_SOON && !ongoing;
    boolean ends = (outlook == BatteryTrend.Outlook.FINE || outlook == BatteryTrend.Outlook.CHARGED) && ongoing;
    return begins || ends ? changes(s, live, now, settings) : List.of();
  }

  /**
   * When time alone next raises or ends an alert of {@code s} (OFFLINE and ONBOARDING_STALLED
   * raised, FLAPPING ended), or null if it never does.
   */
  static Instant nextDueAt(Registered s, Instant now, DeviceSettings settings) {
    if (s.retired()) {
      return null;
    }
    AlertSettings a = settings.alerts();
    Instant due = null;
    Instant offlineSince = s.offlineSince();
    if (s.activated() && offlineSince != null && s.alerts().ongoing(AlertKind.OFFLINE, "") == null) {
      due = earlier(due, offlineSince.plus(a.offlineAfter()));
    }
    if (s.claimed() && !s.activated() && s.alerts().ongoing(AlertKind.ONBOARDING_STALLED, "") == null) {
      due = earlier(due, s.owner().claimedAt().plus(a.onboardingStalledAfter()));
    }
    if (s.alerts().ongoing(AlertKind.FLAPPING, "") != null) {
      List<Instant> starts = s.disconnectsSince(now.minus(DAY), offlineSince);
      int n = starts.size();
      if (n > a.flappingOverAtMost()) {
        // Over once the day's window has let go of all but flapping-over-at-most of them.
        due = earlier(due, starts.get(n - a.flappingOverAtMost() - 1).plus(DAY).plusMillis(1));
      }
    }
    return due == null || due.isAfter(now) ? due : now;
  }

  private static final Duration DAY = Duration.ofDays(1);

  private static void batteryLow(Registered s, List<Holds> holding, Set<AlertKind> over) {
    if (s.telemetry().batteryLow()) {
      holding.add(new Holds(AlertKind.BATTERY_LOW, "", "battery " + s.telemetry().batteryPercent() + "%", null));
    } else {
      over.add(AlertKind.BATTERY_LOW);
    }
  }

  private static void batteryForecast(LiveTelemetry live, Instant now, AlertSettings a, List<Holds> holding, Set<AlertKind> over) {
    if (live.trend == null) {
      return;
    }
    switch (live.trend.outlook(now, a.batteryForecastHorizon(), a.batteryForecastMinSpan())) {
      case EMPTY_SOON -> {
        Instant empty = live.trend.emptyAt();
        long days = Math.max(0, Duration.between(now, empty).toDays());
        holding.add(new Holds(AlertKind.BATTERY_FORECAST, "", "battery " + live.batteryPercent + "%, empty in about " + days
            + (days == 1 ? " day" : " days") + " (" + empty + ")", null));
      }
      case FINE, CHARGED -> over.add(AlertKind.BATTERY_FORECAST);
      case UNKNOWN -> {}
    }
  }

  private static void onboarding(Registered s, Instant now, AlertSettings a, List<Holds> holding, Set<AlertKind> over) {
    if (s.claimed() && !s.activated()) {
      Instant due = s.owner().claimedAt().plus(a.onboardingStalledAfter());
      if (!now.isBefore(due)) {
        holding.add(new Holds(AlertKind.ONBOARDING_STALLED, "", "claimed " + s.owner().claimedAt() + ", no report since", due));
        return;
      }
    }
    over.add(AlertKind.ONBOARDING_STALLED);
  }

  private static void offline(Registered s, Instant now, AlertSettings a, List<Holds> holding, Set<AlertKind> over) {
    Instant since = s.offlineSince();
    if (s.activated() && since != null) {
      Instant due = since.plus(a.offlineAfter());
      if (!now.isBefore(due)) {
        holding.add(new Holds(AlertKind.OFFLINE, "", "off line since " + since, due));
        return;
      }
    }
    over.add(AlertKind.OFFLINE);
  }

  private static void flapping(Registered s, Instant now, AlertSettings a, List<Holds> holding, Set<AlertKind> over) {
    int n = s.disconnectsSince(now.minus(DAY), s.offlineSince()).size();
    if (n >= a.flappingDisconnects()) {
      holding.add(new Holds(AlertKind.FLAPPING, "", n + " disconnects in the last 24 hours", null));
    } else if (n <= a.flappingOverAtMost()) {
      over.add(AlertKind.FLAPPING);
    }
  }

  private static boolean faultOpen(Registered s, String code) {
    return s.telemetry().faults().stream().anyMatch(f -> f.code().equals(code));
  }

  static AlertSubject subjectOf(Registered s) {
    return new AlertSubject(s.owner().customerId(), s.owner().siteId(), s.identity().model(), s.journey().stage());
  }

  private static Instant earlier(Instant a, Instant b) {
    return a == null || b.isBefore(a) ? b : a;
  }
}
