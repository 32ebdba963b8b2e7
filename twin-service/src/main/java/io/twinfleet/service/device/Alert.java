package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import java.time.Instant;

/**
 * One alert of a device: raised when its condition began ({@code raisedAt}), then acknowledged
 * and resolved by hand, or resolved automatically when the condition ended ({@code overAt}). An
 * alert resolved by hand while its condition goes on stays the episode's alert: no second one is
 * raised until the condition has ended and begins again.
 *
 * @param number the device's alert number, from 1; the alert id is {@code deviceId/number}
 * @param subject the fault code of a CRITICAL_FAULT, otherwise empty
 * @param detail what was measured, e.g. "battery 17%"
 * @param note the note given with the last acknowledgement or resolution, or null
 */
public record Alert(int number, AlertKind kind, String subject, String detail, Instant raisedAt, Instant acknowledgedAt,
    Instant resolvedAt, Resolution resolution, String note, Instant overAt) implements CborSerializable {

  /** Where an alert stands. */
  public enum State {
    OPEN,
    ACKNOWLEDGED,
    RESOLVED
  }

  /** How an alert was resolved: its condition ended, or someone resolved it. */
  public enum Resolution {
    AUTO,
    MANUAL
  }

  public State state() {
    return resolvedAt != null ? State.RESOLVED : acknowledgedAt != null ? State.ACKNOWLEDGED : State.OPEN;
  }

  /** Whether its condition has ended. */
  public boolean over() {
    return overAt != null;
  }

  /** The alert id: device id and number, which routes acknowledgements to the device's twin. */
  public static String id(String deviceId, int number) {
    return deviceId + "/" + number;
  }

  Alert acknowledged(String byNote, Instant at) {
    return new Alert(number, kind, subject, detail, raisedAt, at, resolvedAt, resolution, byNote, overAt);
  }

  Alert resolvedByHand(String byNote, Instant at) {
    return new Alert(number, kind, subject, detail, raisedAt, acknowledgedAt, at, Resolution.MANUAL, byNote, overAt);
  }

  /** The condition ended at {@code at}: resolved then, unless someone resolved it before. */
  Alert ended(Instant at) {
    boolean open = resolvedAt == null;
    return new Alert(number, kind, subject, detail, raisedAt, acknowledgedAt, open ? at : resolvedAt, open ? Resolution.AUTO : resolution,
        note, at);
  }
}
