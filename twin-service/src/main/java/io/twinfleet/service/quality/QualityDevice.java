package io.twinfleet.service.quality;

import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.Severity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A device as the quality read model keeps it: what it is counted under (model, firmware, stage,
 * open faults with their severity), whether it is active (in its life: activated, not retired) and
 * on line, and, while an off-line episode of its life is open, when it began and the values it is
 * attributed to. {@code seqNr} is the last event applied, so an event delivered again is ignored.
 */
public record QualityDevice(
    String deviceId,
    long seqNr,
    String model,
    String firmware,
    String stage,
    Map<String, Severity> faults,
    boolean active,
    boolean retired,
    boolean online,
    Instant offlineSince,
    Map<QualityDimension, List<String>> offlineValues) {

  public QualityDevice {
    faults = faults == null ? Map.of() : faults;
    offlineValues = offlineValues == null ? Map.of() : offlineValues;
  }

  static QualityDevice registered(String deviceId, long seqNr, DeviceTwin.DeviceRegistered e) {
    return new QualityDevice(deviceId, seqNr, e.model(), e.firmwareVersion() == null ? "" : e.firmwareVersion(), "UNCLAIMED", Map.of(),
        false, false, false, null, null);
  }

  /** Working: active, on line and without a critical fault. */
  public boolean working() {
    return active && online && !faults.containsValue(Severity.CRITICAL);
  }

  /**
   * The values the device counts under now, per dimension: one each, except faults (every open one,
   * or {@link QualityDimension#NO_FAULT}).
   */
  public Map<QualityDimension, List<String>> values() {
    Map<QualityDimension, List<String>> v = new TreeMap<>();
    v.put(QualityDimension.ALL, List.of(""));
    v.put(QualityDimension.MODEL, List.of(model));
    v.put(QualityDimension.FIRMWARE, List.of(firmware));
    v.put(QualityDimension.STAGE, List.of(stage));
    v.put(QualityDimension.FAULT, faults.isEmpty() ? List.of(QualityDimension.NO_FAULT) : List.copyOf(new TreeMap<>(faults).keySet()));
    return v;
  }

  /**
   * The values an off-line episode beginning now is attributed to: as {@link #values}, but under
   * faults only the worst open one (most severe, then first by code), so each episode counts once.
   */
  Map<QualityDimension, List<String>> offlineAttribution() {
    Map<QualityDimension, List<String>> v = values();
    String worst = QualityDimension.NO_FAULT;
    Severity worstSeverity = null;
    for (Map.Entry<String, Severity> f : new TreeMap<>(faults).entrySet()) {
      if (worstSeverity == null || f.getValue().compareTo(worstSeverity) > 0) {
        worst = f.getKey();
        worstSeverity = f.getValue();
      }
    }
    v.put(QualityDimension.FAULT, List.of(worst));
    return v;
  }

  QualityDevice with(long seq, String firmware, String stage, Map<String, Severity> faults, boolean active, boolean retired, boolean online,
      Instant offlineSince, Map<QualityDimension, List<String>> offlineValues) {
    return new QualityDevice(deviceId, seq, model, firmware, stage, faults, active, retired, online, offlineSince, offlineValues);
  }
}
