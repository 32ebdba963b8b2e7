package io.twinfleet.service.device;

import io.twinfleet.service.device.DeviceState.Registered;
import java.time.Instant;
import java.util.List;

/** A device's journey at one moment: its stage, every stage change so far and its touchpoints. */
public record JourneyView(
    String deviceId,
    String model,
    String customerId,
    String siteId,
    Stage stage,
    Instant stageSince,
    Instant claimedAt,
    Instant activatedAt,
    List<Stages.Transition> stageChanges,
    List<Touchpoint> touchpoints,
    ChurnRisk churnRisk) {

  /** {@code churnRisk}: as the device's view shows it now. */
  static JourneyView of(String deviceId, Registered s, Instant now, DeviceSettings settings, ChurnRisk churnRisk) {
    List<Stages.Transition> changes = Stages.history(s.owner().claimedAt(), s.journey().activatedAt(), endOfLifeAt(s, now, settings), now);
    Stages.Transition last = changes.isEmpty() ? null : changes.get(changes.size() - 1);
    return new JourneyView(
        deviceId,
        s.identity().model(),
        s.owner().customerId(),
        s.owner().siteId(),
        last == null ? Stage.UNCLAIMED : last.to(),
        last == null ? s.identity().registeredAt() : last.at(),
        s.owner().claimedAt(),
        s.journey().activatedAt(),
        changes,
        s.journey().touchpoints(),
        churnRisk);
  }

  /** When the device's life ended as stored, or as due but not stored yet; null if it has not. */
  private static Instant endOfLifeAt(Registered s, Instant now, DeviceSettings settings) {
    if (s.journey().stage() == Stage.END_OF_LIFE) {
      return s.journey().stageSince();
    }
    for (DeviceTwin.Event e : TelemetryRules.stageChanges(s, now, settings)) {
      if (e instanceof DeviceTwin.StageChanged c && c.to() == Stage.END_OF_LIFE) {
        return c.at();
      }
    }
    return null;
  }
}
