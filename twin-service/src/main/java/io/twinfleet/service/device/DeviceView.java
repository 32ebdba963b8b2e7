package io.twinfleet.service.device;

import io.twinfleet.service.device.DeviceState.OpenFault;
import io.twinfleet.service.device.DeviceState.Registered;
import io.twinfleet.service.quality.Uptime;
import io.twinfleet.service.quality.Uptime.Measure;
import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What a twin tells the world about its device at one moment: the stored facts, the live telemetry,
 * and what the rules derive from them at that moment (a device whose offline deadline has passed is
 * shown offline even before the event is stored).
 */
public record DeviceView(
    String deviceId,
    String model,
    String serial,
    Instant registeredAt,
    Duration heartbeatInterval,
    String customerId,
    String siteId,
    Instant claimedAt,
    Stage stage,
    Instant stageSince,
    Instant activatedAt,
    boolean online,
    Instant lastSeen,
    Instant connectivitySince,
    Integer batteryPercent,
    boolean batteryLow,
    String firmwareVersion,
    boolean inUse,
    List<OpenFault> faults,
    boolean working,
    boolean available,
    DecommissionReason decommissioned,
    Uptimes uptime,
    ChurnRisk churnRisk,
    List<Alert> alerts)
    implements DeviceTwin.ViewSubscriber {

  /**
   * Uptime over the trailing 24 hours, 7 days and 30 days, and since activation, each within the
   * device's life (activation to decommissioning); a window that holds no moment of it is null.
   */
  public record Uptimes(Measure last24h, Measure last7d, Measure last30d, Measure sinceActivation) {}

  static final Duration DAY = Duration.ofDays(1);

  static DeviceView of(String deviceId, Registered s, LiveTelemetry live, Instant now, DeviceSettings settings) {
    Instant offlineAt = TelemetryRules.offlineAt(s, live, settings);
    boolean stillOnline = s.connectivity().online() && (offlineAt == null || now.isBefore(offlineAt));
    Instant connectivitySince = s.connectivity().online() && !stillOnline ? offlineAt : s.connectivity().since();

    Stage stage = s.journey().stage();
    Instant stageSince = s.journey().stageSince();
    List<DeviceTwin.Event> due = TelemetryRules.stageChanges(s, now, settings); // time has moved it, not stored yet
    if (!due.isEmpty() && due.get(due.size() - 1) instanceof DeviceTwin.StageChanged last) {
      stage = last.to();
      stageSince = last.at();
    }
    boolean working = stillOnline && !s.retired() && !s.hasCriticalFault();
    return new DeviceView(
        deviceId,
        s.identity().model(),
        s.identity().serial(),
        s.identity().registeredAt(),
        s.identity().heartbeatInterval(),
        s.owner().customerId(),
        s.owner().siteId(),
        s.owner().claimedAt(),
        stage,
        stageSince,
        s.journey().activatedAt(),
        stillOnline,
        live.lastSeen,
        connectivitySince,
        live.batteryPercent,
        s.telemetry().batteryLow(),
        s.telemetry().firmwareVersion(),
        s.telemetry().inUse(),
        s.telemetry().faults(),
        working,
        working && !s.telemetry().inUse(),
        s.decommissioned(),
        uptimes(s, stillOnline ? null : connectivitySince, now),
        ChurnRisk.NONE,
        s.alerts().unresolved())
        .withChurnRisk(s, now, settings.churnRisk());
  }

  /** This view with the churn risk it shows (the risk is scored from the rest of the view). */
  private DeviceView withChurnRisk(Registered s, Instant now, ChurnRiskSettings settings) {
    return new DeviceView(deviceId, model, serial, registeredAt, heartbeatInterval, customerId, siteId, claimedAt, stage, stageSince,
        activatedAt, online, lastSeen, connectivitySince, batteryPercent, batteryLow, firmwareVersion, inUse, faults, working, available,
        decommissioned, uptime, ChurnRisk.of(s, this, now, settings), alerts);
  }

  /**
   * A device's life runs from its activation (its first report after the claim: before that it has
   * no connection to lose) to its decommissioning; {@code offlineSince} opens an episode not yet
   * ended. Null before activation.
   */
  static Uptimes uptimes(Registered s, Instant offlineSince, Instant now) {
    Instant start = s.journey().activatedAt();
    if (start == null) {
      return null;
    }
    Instant end = s.retired() ? s.retiredAt() : now;
    Span life = new Span(start, end.isAfter(start) ? end : start);
    List<Span> offline = s.offline().recent();
    Duration open = Duration.ZERO;
    if (offlineSince != null && offlineSince.isBefore(life.to())) {
      Span episode = new Span(offlineSince, life.to());
      offline.add(episode);
      open = Uptime.downtime(List.of(episode), life);
    }
    Duration lived = Duration.between(life.from(), life.to());
    Duration down = Duration.ofMillis(s.offline().totalMillis()).plus(open);
    return new Uptimes(
        trailing(life, offline, DAY, now),
        trailing(life, offline, DAY.multipliedBy(7), now),
        trailing(life, offline, DAY.multipliedBy(30), now),
        // episodes are kept to the millisecond: never more offline than lived
        new Measure(lived, down.compareTo(lived) > 0 ? lived : down));
  }

  private static Measure trailing(Span life, List<Span> offline, Duration window, Instant now) {
    return Uptime.measure(life, offline, new Span(now.minus(window), now)).orElse(null);
  }
}
