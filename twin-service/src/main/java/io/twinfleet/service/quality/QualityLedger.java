package io.twinfleet.service.quality;

import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.Severity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a device event means to the fleet's quality figures, as pure functions: the device's new
 * {@link QualityDevice} and the entries it adds to the ledger. A device <em>enters</em> a value
 * (of a dimension) when its life begins (activation) or it takes the value while active, and
 * <em>leaves</em> it when it drops the value or its life ends (decommissioning); the time between
 * is its life under that value. Off-line episodes within its life <em>open</em> when it goes off
 * line and, when it is back (or retired), are booked as <em>off-line</em> time under the values it
 * had meanwhile, and <em>closed</em>; a value that changes while it is off line (a stage passing)
 * books the episode so far and opens the rest under the new values. Under faults an episode counts
 * once, for the worst fault open (or {@link QualityDimension#NO_FAULT}).
 */
public final class QualityLedger {

  private QualityLedger() {}

  public enum Kind { ENTER, LEAVE, OPEN, CLOSE, OFFLINE }

  /** One ledger entry: at {@code from} (ENTER, LEAVE, OPEN; CLOSE names the episode by when it opened), or the span {@code [from, to)} (OFFLINE). */
  public record Entry(Kind kind, QualityDimension dimension, String value, Instant from, Instant to) {}

  /** A device after an event, and the entries the event adds. */
  public record Applied(QualityDevice device, List<Entry> entries) {}

  /** Whether the quality read model needs this event. */
  public static boolean relevant(DeviceTwin.Event e) {
    return e instanceof DeviceTwin.DeviceRegistered || e instanceof DeviceTwin.DeviceActivated || e instanceof DeviceTwin.StageChanged
        || e instanceof DeviceTwin.FirmwareChanged || e instanceof DeviceTwin.FaultRaised || e instanceof DeviceTwin.FaultCleared
        || e instanceof DeviceTwin.WentOffline || e instanceof DeviceTwin.CameOnline || e instanceof DeviceTwin.DeviceDecommissioned;
  }

  /** Event {@code seqNr} applied to device {@code d} (null before its registration was seen). */
  public static Applied apply(QualityDevice d, String deviceId, long seqNr, DeviceTwin.Event event) {
    List<Entry> entries = new ArrayList<>(0);
    if (d != null && seqNr <= d.seqNr()) {
      return new Applied(d, entries);
    }
    if (d == null) {
      if (event instanceof DeviceTwin.DeviceRegistered e) {
        return new Applied(QualityDevice.registered(deviceId, seqNr, e), entries);
      }
      return new Applied(null, entries); // its registration was stored before this read model existed
    }
    Instant at = event.at();
    QualityDevice next = d;
    if (event instanceof DeviceTwin.DeviceActivated && !d.active() && !d.retired()) {
      next = d.with(seqNr, d.firmware(), d.stage(), d.faults(), true, false, d.online(), null, null);
      moved(Map.of(), next.values(), at, entries);
    } else if (event instanceof DeviceTwin.StageChanged e) {
      next = changed(d, seqNr, d.firmware(), e.to().name(), d.faults(), at, entries);
    } else if (event instanceof DeviceTwin.FirmwareChanged e) {
      next = changed(d, seqNr, e.to() == null ? "" : e.to(), d.stage(), d.faults(), at, entries);
    } else if (event instanceof DeviceTwin.FaultRaised e) {
      Map<String, Severity> faults = new HashMap<>(d.faults());
      faults.put(e.code(), e.severity());
      next = changed(d, seqNr, d.firmware(), d.stage(), Map.copyOf(faults), at, entries);
    } else if (event instanceof DeviceTwin.FaultCleared e) {
      Map<String, Severity> faults = new HashMap<>(d.faults());
      faults.remove(e.code());
      next = changed(d, seqNr, d.firmware(), d.stage(), Map.copyOf(faults), at, entries);
    } else if (event instanceof DeviceTwin.WentOffline) {
      boolean opens = d.active() && d.offlineSince() == null;
      next = d.with(seqNr, d.firmware(), d.stage(), d.faults(), d.active(), d.retired(), false,
          opens ? at : d.offlineSince(), opens ? d.offlineAttribution() : d.offlineValues());
      if (opens) {
        each(next.offlineValues(), (dim, v) -> entries.add(new Entry(Kind.OPEN, dim, v, at, null)));
      }
    } else if (event instanceof DeviceTwin.CameOnline) {
      closeEpisode(d, at, entries);
      next = d.with(seqNr, d.firmware(), d.stage(), d.faults(), d.active(), d.retired(), true, null, null);
    } else if (event instanceof DeviceTwin.DeviceDecommissioned) {
      if (d.active()) {
        closeEpisode(d, at, entries);
        moved(d.values(), Map.of(), at, entries);
      }
      next = d.with(seqNr, d.firmware(), d.stage(), d.faults(), false, true, d.online(), null, null);
    } else {
      next = d.with(seqNr, d.firmware(), d.stage(), d.faults(), d.active(), d.retired(), d.online(), d.offlineSince(), d.offlineValues());
    }
    return new Applied(next, entries);
  }

  private static QualityDevice changed(QualityDevice d, long seqNr, String firmware, String stage, Map<String, Severity> faults, Instant at,
      List<Entry> entries) {
    QualityDevice next = d.with(seqNr, firmware, stage, faults, d.active(), d.retired(), d.online(), d.offlineSince(), d.offlineValues());
    if (!d.active()) {
      return next;
    }
    moved(d.values(), next.values(), at, entries);
    if (d.offlineSince() == null || next.offlineAttribution().equals(d.offlineValues())) {
      return next;
    }
    // Off line while its values change: the episode is booked in two parts, each under its values.
    closeEpisode(d, at, entries);
    Instant since = at.isBefore(d.offlineSince()) ? d.offlineSince() : at;
    QualityDevice reopened = next.with(seqNr, firmware, stage, faults, true, false, false, since, next.offlineAttribution());
    each(reopened.offlineValues(), (dim, v) -> entries.add(new Entry(Kind.OPEN, dim, v, since, null)));
    return reopened;
  }

  private static void closeEpisode(QualityDevice d, Instant at, List<Entry> entries) {
    Instant since = d.offlineSince();
    if (since == null) {
      return;
    }
    Instant to = at.isBefore(since) ? since : at;
    each(d.offlineValues(), (dim, v) -> {
      entries.add(new Entry(Kind.CLOSE, dim, v, since, null));
      entries.add(new Entry(Kind.OFFLINE, dim, v, since, to));
    });
  }

  /** Leaves the values only in {@code before}, enters those only in {@code after}. */
  private static void moved(Map<QualityDimension, List<String>> before, Map<QualityDimension, List<String>> after, Instant at,
      List<Entry> entries) {
    each(before, (dim, v) -> {
      if (!after.getOrDefault(dim, List.of()).contains(v)) {
        entries.add(new Entry(Kind.LEAVE, dim, v, at, null));
      }
    });
    each(after, (dim, v) -> {
      if (!before.getOrDefault(dim, List.of()).contains(v)) {
        entries.add(new Entry(Kind.ENTER, dim, v, at, null));
      }
    });
  }

  private interface Each {
    void accept(QualityDimension dimension, String value);
  }

  private static void each(Map<QualityDimension, List<String>> values, Each each) {
    for (Map.Entry<QualityDimension, List<String>> e : values.entrySet()) {
      for (String v : e.getValue()) {
        each.accept(e.getKey(), Objects.requireNonNull(v));
      }
    }
  }
}
