package io.twinfleet.service.device;

import io.twinfleet.service.device.DeviceState.OpenFault;
import io.twinfleet.service.device.DeviceState.Registered;
import io.twinfleet.service.device.DeviceTwin.*;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which facts a reading or the passing of time establishes about a device, as pure functions of the
 * stored state, the live telemetry and {@code now}. An empty result means the reading changes
 * nothing worth storing.
 */
public final class TelemetryRules {

  private TelemetryRules() {}

  /** When the device counts as offline if it sends nothing more; null if it never reported. */
  static Instant offlineAt(Registered s, LiveTelemetry live, DeviceSettings settings) {
    if (live.lastSeen == null) {
      return null;
    }
    Instant at = live.lastSeen.plus(settings.offlineAfter(s.identity().heartbeatInterval()));
    return live.exact ? at : at.plus(settings.checkpointInterval());
  }

  /** The events a reading received at {@code now} causes (before it is recorded in {@code live}). */
  static List<Event> onReading(Registered s, LiveTelemetry live, Reading r, Instant now, DeviceSettings settings) {
    List<Event> events = new ArrayList<>(0);
    if (s.connectivity().online()) {
      Instant offlineAt = offlineAt(s, live, settings);
      if (offlineAt != null && !now.isBefore(offlineAt)) {
        // It went quiet long enough and the timer has not said so yet (e.g. the twin was asleep).
        events.add(new WentOffline(offlineAt));
        events.add(new CameOnline(now));
      }
    } else {
      events.add(new CameOnline(now));
    }

    if (s.claimed() && !s.activated()) {
      activation(s, now, settings, events);
    } else {
      events.addAll(stageChanges(s, now, settings));
    }

    boolean outOfOrder = live.lastObservedAt != null && r.observedAt().isBefore(live.lastObservedAt);
    if (outOfOrder) {
      return events; // an older reading proves the device is alive, but its values are superseded
    }
    if (r.firmwareVersion() != null && !r.firmwareVersion().equals(s.telemetry().firmwareVersion())) {
      events.add(new FirmwareChanged(s.telemetry().firmwareVersion(), r.firmwareVersion(), now));
    }
    if (r.faults() != null) {
      faultChanges(s.telemetry().faults(), r.faults(), now, events);
    }
    if (r.batteryPercent() != null) {
      int b = r.batteryPercent();
      if (!s.telemetry().batteryLow() && b < settings.batteryLowBelow()) {
        events.add(new BatteryLow(b, now));
      } else if (s.telemetry().batteryLow() && b > settings.batteryRecoveredAbove()) {
        events.add(new BatteryRecovered(b, now));
      }
    }
    if (r.inUse() != null && r.inUse() != s.telemetry().inUse()) {
      events.add(r.inUse() ? new UsageStarted(now) : new UsageEnded(now));
    }
    return events;
  }

  /** Facts that time alone establishes: the device went quiet, or a journey milestone passed. */
  static List<Event> dueEvents(Registered s, LiveTelemetry live, Instant now, DeviceSettings settings) {
    if (s.retired()) {
      return List.of();
    }
    List<Event> events = new ArrayList<>(0);
    if (s.connectivity().online()) {
      Instant offlineAt = offlineAt(s, live, settings);
      if (offlineAt != null && !now.isBefore(offlineAt)) {
        events.add(new WentOffline(offlineAt));
      }
    }
    events.addAll(stageChanges(s, now, settings));
    return events;
  }

  /**
   * The stage changes due by {@code now} that are not stored yet: the milestones passed since the
   * stored stage and the end of the device's useful life, each at its exact time; nothing once it
   * is at END_OF_LIFE.
   */
  static List<Event> stageChanges(Registered s, Instant now, DeviceSettings settings) {
    Stage stage = s.journey().stage();
    if (!s.claimed() || s.retired() || stage == Stage.END_OF_LIFE) {
      return List.of();
    }
    Instant endOfLife = endOfLifeAt(s, settings);
    boolean ends = endOfLife != null && !now.isBefore(endOfLife);
    List<Event> events = new ArrayList<>(0);
    if (s.activated()) {
      for (Stages.Transition t : Stages.timeDrivenTransitions(stage, s.journey().activatedAt(), ends ? endOfLife : now)) {
        events.add(new StageChanged(t.from(), t.to(), t.at()));
        stage = t.to();
      }
    }
    if (ends) {
      events.add(new StageChanged(stage, Stage.END_OF_LIFE, endOfLife));
    }
    return events;
  }

  /** When the next stage change falls due after {@code now} (a milestone or the end of life), or null if none will. */
  static Instant nextStageChangeAt(Registered s, Instant now, DeviceSettings settings) {
    if (!s.claimed() || s.retired() || s.journey().stage() == Stage.END_OF_LIFE) {
      return null;
    }
    Instant next = s.activated() ? Stages.nextMilestone(s.journey().activatedAt(), now).orElse(null) : null;
    Instant endOfLife = endOfLifeAt(s, settings);
    if (endOfLife != null && (next == null || endOfLife.isBefore(next))) {
      next = endOfLife.isBefore(now) ? now : endOfLife; // due and not stored yet: at once
    }
    return next;
  }

  /**
   * When the claimed device's useful life ends by its model's settings, or null if it does not;
   * never before its stored stage began (a setting moved into the past ends it as of its stage, so
   * the stored history stays in order).
   */
  static Instant endOfLifeAt(Registered s, DeviceSettings settings) {
    Instant end = settings.lifetimes().endOfLifeAt(s.identity().model(), s.owner().claimedAt(), s.journey().activatedAt());
    return end == null || !end.isBefore(s.journey().stageSince()) ? end : s.journey().stageSince();
  }

  /**
   * The first report after the claim activates the device: DAY_30 from now, unless its life ended
   * before (then it is activated without a stage change); a life ending at this very moment ends
   * after the activation.
   */
  private static void activation(Registered s, Instant now, DeviceSettings settings, List<Event> events) {
    List<Event> due = stageChanges(s, now, settings); // for a device not activated: at most its end of life
    if (s.journey().stage() == Stage.END_OF_LIFE || !due.isEmpty() && ((StageChanged) due.get(0)).at().isBefore(now)) {
      events.addAll(due);
      events.add(new DeviceActivated(now));
      return;
    }
    events.add(new DeviceActivated(now));
    events.add(new StageChanged(Stage.ONBOARDING, Stage.DAY_30, now));
    Instant endOfLife = settings.lifetimes().endOfLifeAt(s.identity().model(), s.owner().claimedAt(), now);
    if (endOfLife != null && !now.isBefore(endOfLife)) {
      events.add(new StageChanged(Stage.DAY_30, Stage.END_OF_LIFE, endOfLife));
    }
  }

  /**
   * Whether to store the live telemetry now: only when memory holds something the journal lacks
   * and the last stored sighting is at least one checkpoint interval old, so a device costs at most
   * one such write per interval however often it reports. Also at once when the stored sighting is
   * marked exact (a graceful stop wrote it) and memory has moved past it: the mark would otherwise
   * let a crash before the next checkpoint bring back a stale sighting with no grace, and invent an
   * offline spell. One write per wake.
   */
  static boolean checkpointDue(Registered s, LiveTelemetry live, Instant now, DeviceSettings settings) {
    if (!live.differsFrom(s)) {
      return false;
    }
    Instant stored = s.connectivity().lastSeen();
    return stored == null
        || s.connectivity().lastSeenExact()
        || Duration.between(stored, now).compareTo(settings.checkpointInterval()) >= 0;
  }

  /**
   * Whether a twin that stops now (or retires) should store its sighting as exact although memory
   * holds nothing new: the device is online and the stored sighting is its real last one, but not
   * yet marked so. Marked, a later incarnation notices the device's silence on time.
   */
  static boolean sightingToMark(Registered s, LiveTelemetry live) {
    return live.exact && s.connectivity().online() && !s.connectivity().lastSeenExact();
  }

  private static void faultChanges(List<OpenFault> open, List<Reading.ReportedFault> reported, Instant now, List<Event> events) {
    Map<String, Severity> reportedSet = new HashMap<>();
    for (Reading.ReportedFault f : reported) {
      reportedSet.put(f.code(), f.severity());
    }
    for (OpenFault f : open) {
      if (!reportedSet.containsKey(f.code())) {
        events.add(new FaultCleared(f.code(), now));
      }
    }
    for (Map.Entry<String, Severity> f : reportedSet.entrySet()) {
      Severity before = open.stream().filter(o -> o.code().equals(f.getKey())).map(OpenFault::severity).findFirst().orElse(null);
      if (!Objects.equals(before, f.getValue())) {
        events.add(new FaultRaised(f.getKey(), f.getValue(), now));
      }
    }
  }
}
