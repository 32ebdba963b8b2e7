package io.twinfleet.service.journey;

import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.DeviceActivated;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceDecommissioned;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import io.twinfleet.service.device.DeviceTwin.StageChanged;
import io.twinfleet.service.device.Stage;

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
        || event instanceof DeviceMoved || event instanceof DeviceDecommissioned;
  }

  /** The row after event number {@code seqNr} of {@code deviceId}; null while the device has none. */
  static JourneyRow apply(JourneyRow row, String deviceId, long seqNr, DeviceTwin.Event event) {
    if (row != null && seqNr <= row.seqNr()) {
      return row;
    }
    if (event instanceof DeviceClaimed e) {
      return new JourneyRow(deviceId, e.customerId(), e.siteId(), e.model(), null, null, e.at(), null, false, seqNr);
    }
    if (row == null) {
      return null;
    }
    if (event instanceof StageChanged e) {
      String stage = e.to() == Stage.UNCLAIMED ? null : e.to().name();
      return new JourneyRow(deviceId, row.customerId(), row.siteId(), row.model(), stage, e.at(), row.claimedAt(),
          row.activatedAt(), row.decommissioned(), seqNr);
    }
    if (event instanceof DeviceActivated e) {
      return new JourneyRow(deviceId, row.customerId(), row.siteId(), row.model(), row.stage(), row.stageSince(), row.claimedAt(),
          e.at(), row.decommissioned(), seqNr);
    }
    if (event instanceof DeviceMoved e) {
      return new JourneyRow(deviceId, row.customerId(), e.toSiteId(), row.model(), row.stage(), row.stageSince(), row.claimedAt(),
          row.activatedAt(), row.decommissioned(), seqNr);
    }
    if (event instanceof DeviceDecommissioned) {
      return new JourneyRow(deviceId, row.customerId(), row.siteId(), row.model(), row.stage(), row.stageSince(), row.claimedAt(),
          row.activatedAt(), true, seqNr);
    }
    return row;
  }
}
