package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import java.time.Instant;
import java.util.List;

/**
 * One validated observation of one device. Null fields mean "not reported, unchanged"; a non-null
 * empty {@code faults} list means "no faults open".
 */
public record Reading(
    String deviceId,
    Instant observedAt,
    Integer batteryPercent,
    String firmwareVersion,
    Boolean inUse,
    List<ReportedFault> faults)
    implements CborSerializable {

  /** A fault as the device reports it. */
  public record ReportedFault(String code, Severity severity) implements CborSerializable {}
}
