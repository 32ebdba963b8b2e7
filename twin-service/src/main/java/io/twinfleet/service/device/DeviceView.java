package io.twinfleet.service.device;

import io.twinfleet.service.device.DeviceState.OpenFault;
import io.twinfleet.service.device.DeviceState.Registered;
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
    DecommissionReason decommissioned)
    implements DeviceTwin.ViewSubscriber {

  static DeviceView of(String deviceId, Registered s, LiveTelemetry live, Instant now, DeviceSettings settings) {
    Instant offlineAt = TelemetryRules.offlineAt(s, live, settings);
    boolean stillOnline = s.connectivity().online() && (offlineAt == null || now.isBefore(offlineAt));
    Instant connectivitySince = s.connectivity().online() && !stillOnline ? offlineAt : s.connectivity().since();

    Stage stage = s.journey().stage();
    Instant stageSince = s.journey().stageSince();
    if (s.activated() && !s.retired()) {
      Stage due = Stages.stageAt(s.owner().claimedAt(), s.journey().activatedAt(), false, now);
      if (due != stage) {
        stage = due;
        stageSince = Stages.activeStageStart(due, s.journey().activatedAt());
      }
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
        s.decommissioned());
  }
}
