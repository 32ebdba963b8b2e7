package io.twinfleet.service.site;

import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.SiteStatus;
import io.twinfleet.service.device.Severity;
import java.time.Instant;
import java.util.List;

/**
 * One device event as its site sees it: the device's id, the event's sequence number (a site
 * applies a device's changes in that order and ignores any it has applied before, so a replay
 * changes nothing), what changed and when. {@code joined} is set for {@link Kind#JOINED}, {@code
 * faultCode} for the two fault kinds.
 */
public record DeviceChange(String deviceId, long seqNr, Kind kind, SiteStatus joined, String faultCode, Instant at)
    implements CborSerializable {

  public enum Kind {
    /** Claimed at the site, or moved to it. */
    JOINED,
    /** Moved to another site. */
    LEFT,
    /** Reported for the first time after its claim. */
    ACTIVATED,
    ONLINE,
    OFFLINE,
    USAGE_STARTED,
    USAGE_ENDED,
    /** A fault with this code is open and critical. */
    CRITICAL_FAULT,
    /** The fault with this code is cleared, or open but no longer critical. */
    FAULT_NOT_CRITICAL,
    /** Decommissioned. */
    RETIRED
  }

  /**
   * A device that moved before claims and moves carried its status: it counts as activated and
   * offline until its next event says otherwise.
   */
  static final SiteStatus MOVED_UNKNOWN = new SiteStatus(true, false, false, List.of());

  /**
   * What a device event means to the site the device belongs to when it happens; null when nothing.
   * Claims and moves are not here: they decide which site hears of it (see {@link SiteUpdatesHandler}).
   */
  static DeviceChange of(String deviceId, long seqNr, DeviceTwin.Event event) {
    Kind kind;
    String code = null;
    if (event instanceof DeviceTwin.DeviceActivated) {
      kind = Kind.ACTIVATED;
    } else if (event instanceof DeviceTwin.CameOnline) {
      kind = Kind.ONLINE;
    } else if (event instanceof DeviceTwin.WentOffline) {
      kind = Kind.OFFLINE;
    } else if (event instanceof DeviceTwin.UsageStarted) {
      kind = Kind.USAGE_STARTED;
    } else if (event instanceof DeviceTwin.UsageEnded) {
      kind = Kind.USAGE_ENDED;
    } else if (event instanceof DeviceTwin.FaultRaised f) {
      kind = f.severity() == Severity.CRITICAL ? Kind.CRITICAL_FAULT : Kind.FAULT_NOT_CRITICAL;
      code = f.code();
    } else if (event instanceof DeviceTwin.FaultCleared f) {
      kind = Kind.FAULT_NOT_CRITICAL;
      code = f.code();
    } else if (event instanceof DeviceTwin.DeviceDecommissioned) {
      kind = Kind.RETIRED;
    } else {
      return null;
    }
    return new DeviceChange(deviceId, seqNr, kind, null, code, event.at());
  }

  static DeviceChange joined(String deviceId, long seqNr, SiteStatus status, Instant at) {
    return new DeviceChange(deviceId, seqNr, Kind.JOINED, status, null, at);
  }

  static DeviceChange left(String deviceId, long seqNr, Instant at) {
    return new DeviceChange(deviceId, seqNr, Kind.LEFT, null, null, at);
  }
}
