package io.twinfleet.service.journey;

import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.service.device.ChurnRisk;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.ChurnRiskChanged;
import io.twinfleet.service.device.DeviceTwin.DeviceActivated;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceDecommissioned;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import io.twinfleet.service.device.DeviceTwin.StageChanged;
import io.twinfleet.service.device.Stage;
import java.time.Instant;

/**
 * How device events change a device's journey row: a pure fold. A device gets a row when it is
 * claimed; an event whose sequence number the row has already applied changes nothing, so replayed
 * events are harmless.
 */
final class JourneyRows {

  private JourneyRows() {}

  /** Whether {@code event} can change a journey row; other events need no row read. */
  static boolean relevant(DeviceTwin.Event event) {
    return event instanceof DeviceClaimed || event instanceof StageChanged || event instanceof DeviceActivated
        || event instanceof DeviceMoved || event instanceof DeviceDecommissioned || event instanceof ChurnRiskChanged;
  }

  /** The row after event number {@code seqNr} of {@code deviceId}; null while the device has none. */
  static JourneyRow apply(JourneyRow row, String deviceId, long seqNr, DeviceTwin.Event event) {
    if (row != null && seqNr <= row.seqNr()) {
      return row;
    }
    if (event instanceof DeviceClaimed e) {
      return new JourneyRow(deviceId, e.customerId(), e.siteId(), e.model(), null, null, e.at(), null, false, 0, null, null, seqNr);
    }
    if (row == null) {
      return null;
    }
    String stage = row.stage();
    Instant stageSince = row.stageSince();
    String siteId = row.siteId();
    Instant activatedAt = row.activatedAt();
    boolean decommissioned = row.decommissioned();
    int riskScore = row.riskScore();
    String riskFactors = row.riskFactors();
    Instant riskAt = row.riskAt();
    if (event instanceof StageChanged e) {
      stage = e.to() == Stage.UNCLAIMED ? null : e.to().name();
      stageSince = e.at();
    } else if (event instanceof DeviceActivated e) {
      activatedAt = e.at();
    } else if (event instanceof DeviceMoved e) {
      siteId = e.toSiteId();
    } else if (event instanceof DeviceDecommissioned) {
      decommissioned = true;
    } else if (event instanceof ChurnRiskChanged e) {
      riskScore = e.score();
      riskFactors = ChurnRisk.encode(e.factors());
      riskAt = e.at();
    } else {
      return row;
    }
    return new JourneyRow(deviceId, row.customerId(), siteId, row.model(), stage, stageSince, row.claimedAt(), activatedAt,
        decommissioned, riskScore, riskFactors, riskAt, seqNr);
  }
}
