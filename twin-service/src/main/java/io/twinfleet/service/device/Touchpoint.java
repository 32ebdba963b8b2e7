package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import java.time.Instant;

/** A touchpoint with a device's customer: what, a note, when it happened and when it was stored. */
public record Touchpoint(String id, TouchpointKind kind, String note, Instant at, Instant recordedAt) implements CborSerializable {

  static Touchpoint of(DeviceTwin.TouchpointRecorded e) {
    return new Touchpoint(e.touchpointId(), e.kind(), e.note(), e.happenedAt(), e.at());
  }

  /** Whether {@code other} says the same thing (a retried request), whenever it was stored. */
  boolean sameAs(String otherId, TouchpointKind otherKind, String otherNote, Instant otherAt) {
    return id.equals(otherId) && kind == otherKind && note.equals(otherNote) && at.equals(otherAt);
  }
}
