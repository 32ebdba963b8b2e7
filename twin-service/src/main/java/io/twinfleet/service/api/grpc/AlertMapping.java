package io.twinfleet.service.api.grpc;

import io.twinfleet.persistence.readmodel.AlertsRepository.AlertRow;
import io.twinfleet.protocol.v1.AlertChange;
import io.twinfleet.protocol.v1.AlertChangeKind;
import io.twinfleet.protocol.v1.AlertResolution;
import io.twinfleet.protocol.v1.AlertState;
import io.twinfleet.service.alert.AlertRows;
import io.twinfleet.service.alert.AlertWatch;
import io.twinfleet.service.device.Alert;
import io.twinfleet.service.device.AlertKind;
import io.twinfleet.service.device.DeviceTwin.AlertAcknowledged;
import io.twinfleet.service.device.DeviceTwin.AlertRaised;
import io.twinfleet.service.device.DeviceTwin.AlertResolved;
import io.twinfleet.service.device.DeviceTwin.AlertSubject;
import io.twinfleet.service.device.Validation.InvalidField;
import java.util.Arrays;

/** Between the twinfleet.v1 alert messages and the domain: every alert goes out as its read-model row would list it. */
final class AlertMapping {

  private AlertMapping() {}

  static io.twinfleet.protocol.v1.Alert toProto(String deviceId, Alert a, AlertSubject device) {
    return toProto(AlertRows.row(deviceId, a, device));
  }

  static io.twinfleet.protocol.v1.Alert toProto(AlertRow r) {
    io.twinfleet.protocol.v1.Alert.Builder b = io.twinfleet.protocol.v1.Alert.newBuilder()
        .setAlertId(r.alertId())
        .setDeviceId(r.deviceId())
        .setKind(io.twinfleet.protocol.v1.AlertKind.valueOf(r.kind()))
        .setSubject(r.subject())
        .setDetail(r.detail())
        .setState(AlertState.valueOf("ALERT_" + r.state()))
        .setRaisedAt(ProtoMapping.timestamp(r.raisedAt()));
    if (r.acknowledgedAt() != null) {
      b.setAcknowledgedAt(ProtoMapping.timestamp(r.acknowledgedAt()));
    }
    if (r.resolvedAt() != null) {
      b.setResolvedAt(ProtoMapping.timestamp(r.resolvedAt()));
    }
    if (r.resolution() != null) {
      b.setResolution(Alert.Resolution.valueOf(r.resolution()) == Alert.Resolution.AUTO
          ? AlertResolution.RESOLVED_AUTOMATICALLY : AlertResolution.RESOLVED_BY_HAND);
    }
    if (r.note() != null) {
      b.setNote(r.note());
    }
    if (r.overAt() != null) {
      b.setConditionOverAt(ProtoMapping.timestamp(r.overAt()));
    }
    if (r.customerId() != null) {
      b.setCustomerId(r.customerId());
    }
    if (r.siteId() != null) {
      b.setSiteId(r.siteId());
    }
    if (r.model() != null) {
      b.setModel(r.model());
    }
    if (r.stage() != null) {
      b.setStage(io.twinfleet.protocol.v1.Stage.valueOf(r.stage()));
    }
    return b.build();
  }

  static AlertChange toProto(AlertWatch.Change c) {
    AlertChangeKind kind = c.event() instanceof AlertRaised ? AlertChangeKind.ALERT_RAISED
        : c.event() instanceof AlertAcknowledged ? AlertChangeKind.ALERT_ACKNOWLEDGED_CHANGE
        : c.event() instanceof AlertResolved ? AlertChangeKind.ALERT_RESOLVED_BY_HAND
        : AlertChangeKind.ALERT_CONDITION_OVER;
    return AlertChange.newBuilder()
        .setChange(kind)
        .setAlert(toProto(c.deviceId(), c.event().alert(), c.event().device()))
        .setAt(ProtoMapping.timestamp(c.event().at()))
        .setResumeToken(c.resumeToken())
        .build();
  }

  /** A kind a client filters by; unset is null (every kind) where {@code optional}. */
  static AlertKind kind(String field, io.twinfleet.protocol.v1.AlertKind k, boolean optional) {
    if (k == io.twinfleet.protocol.v1.AlertKind.ALERT_KIND_UNSPECIFIED && optional) {
      return null;
    }
    if (k == io.twinfleet.protocol.v1.AlertKind.ALERT_KIND_UNSPECIFIED || k == io.twinfleet.protocol.v1.AlertKind.UNRECOGNIZED) {
      throw new InvalidField(field, "not an alert kind: " + k + "; one of " + Arrays.toString(AlertKind.values()));
    }
    return AlertKind.valueOf(k.name());
  }

  /** A state a client filters by; unset is null (every state). */
  static Alert.State state(String field, AlertState s) {
    return switch (s) {
      case ALERT_STATE_UNSPECIFIED -> null;
      case ALERT_OPEN -> Alert.State.OPEN;
      case ALERT_ACKNOWLEDGED -> Alert.State.ACKNOWLEDGED;
      case ALERT_RESOLVED -> Alert.State.RESOLVED;
      default -> throw new InvalidField(field, "not an alert state: " + s + "; one of ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED");
    };
  }
}
