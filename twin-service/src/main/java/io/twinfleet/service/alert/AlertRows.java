package io.twinfleet.service.alert;

import io.twinfleet.persistence.readmodel.AlertsRepository;
import io.twinfleet.persistence.readmodel.AlertsRepository.AlertRow;
import io.twinfleet.service.device.Alert;
import io.twinfleet.service.device.DeviceTwin.AlertAcknowledged;
import io.twinfleet.service.device.DeviceTwin.AlertEvent;
import io.twinfleet.service.device.DeviceTwin.AlertSubject;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * Writes the alert read models, for the alert projection ({@link AlertReadModels}) and the RPCs that
 * change alerts: one row per alert, moved as it changes.
 */
public final class AlertRows {

  private final AlertsRepository alerts;
  private final int keepResolvedSeconds;

  public AlertRows(AlertsRepository alerts, Duration keepResolved) {
    this.alerts = alerts;
    this.keepResolvedSeconds = (int) Math.min(Integer.MAX_VALUE, keepResolved.getSeconds());
  }

  /** Stores the alert as event {@code seqNr} of device {@code deviceId} left it. */
  public CompletionStage<Void> apply(String deviceId, AlertEvent e, long seqNr) {
    return store(deviceId, e.alert(), e.device(), previousState(e), seqNr);
  }

  /** Stores an alert that was just acknowledged or resolved by hand, as event {@code seqNr} of its device left it. */
  public CompletionStage<Void> changedByHand(String deviceId, Alert a, AlertSubject device, long seqNr) {
    String previous = a.state() == Alert.State.ACKNOWLEDGED || a.acknowledgedAt() == null ? Alert.State.OPEN.name() : Alert.State.ACKNOWLEDGED.name();
    return store(deviceId, a, device, previous, seqNr);
  }

  private CompletionStage<Void> store(String deviceId, Alert a, AlertSubject device, String previousState, long seqNr) {
    int ttl = a.state() == Alert.State.RESOLVED ? keepResolvedSeconds : 0;
    return alerts.store(row(deviceId, a, device), previousState, seqNr, ttl);
  }

  public static AlertRow row(String deviceId, Alert a, AlertSubject device) {
    return new AlertRow(Alert.id(deviceId, a.number()), a.state().name(), deviceId, a.kind().name(), a.subject(), a.detail(),
        device.customerId(), device.siteId(), device.model(), device.stage() == null ? null : device.stage().name(), a.raisedAt(),
        a.acknowledgedAt(), a.resolvedAt(), a.resolution() == null ? null : a.resolution().name(), a.note(), a.overAt());
  }

  /**
   * Where the alert was listed before this event: an acknowledgement moves it from OPEN, a
   * resolution (by hand, or its condition ending while unresolved) from OPEN or ACKNOWLEDGED; the
   * end of a condition after a resolution by hand leaves it RESOLVED. Null for a new alert.
   */
  private static String previousState(AlertEvent e) {
    Alert a = e.alert();
    if (e instanceof AlertAcknowledged) {
      return Alert.State.OPEN.name();
    }
    if (a.state() != Alert.State.RESOLVED) {
      return null; // raised
    }
    boolean resolvedNow = a.resolvedAt().equals(e.at());
    if (!resolvedNow) {
      return Alert.State.RESOLVED.name();
    }
    return (a.acknowledgedAt() != null ? Alert.State.ACKNOWLEDGED : Alert.State.OPEN).name();
  }
}
