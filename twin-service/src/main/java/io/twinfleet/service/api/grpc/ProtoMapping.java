package io.twinfleet.service.api.grpc;

import com.google.protobuf.Timestamp;
import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.protocol.v1.ActivationTimes;
import io.twinfleet.protocol.v1.AtRiskDevice;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.DeviceStage;
import io.twinfleet.protocol.v1.RiskFactor;
import io.twinfleet.protocol.v1.RiskFactorKind;
import io.twinfleet.protocol.v1.StageChangeEvent;
import io.twinfleet.protocol.v1.StageCount;
import io.twinfleet.protocol.v1.DeviceJourney;
import io.twinfleet.protocol.v1.Fault;
import io.twinfleet.protocol.v1.FaultSet;
import io.twinfleet.protocol.v1.ReportedFault;
import io.twinfleet.protocol.v1.StageChange;
import io.twinfleet.protocol.v1.Uptime;
import io.twinfleet.service.device.ChurnRisk;
import io.twinfleet.service.device.DecommissionReason;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceState.OpenFault;
import io.twinfleet.service.device.DeviceTwin.AlertSubject;
import io.twinfleet.service.device.DeviceView;
import io.twinfleet.service.device.JourneyView;
import io.twinfleet.service.device.Reading;
import io.twinfleet.service.device.Severity;
import io.twinfleet.service.device.Stage;
import io.twinfleet.service.device.Stages;
import io.twinfleet.service.device.Touchpoint;
import io.twinfleet.service.device.TouchpointKind;
import io.twinfleet.service.device.Validation;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.journey.StageChangeWatch;
import io.twinfleet.service.journey.StageFunnel;
import io.twinfleet.service.quality.Uptime.Measure;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Between the twinfleet.v1 messages and the domain: views out, validated readings in. */
final class ProtoMapping {

  private ProtoMapping() {}

  static Device toProto(DeviceView v) {
    Device.Builder b = Device.newBuilder()
        .setDeviceId(v.deviceId())
        .setModel(v.model())
        .setSerial(v.serial())
        .setRegisteredAt(timestamp(v.registeredAt()))
        .setHeartbeatInterval(duration(v.heartbeatInterval()))
        .setStage(io.twinfleet.protocol.v1.Stage.valueOf(v.stage().name()))
        .setOnline(v.online())
        .setBatteryLow(v.batteryLow())
        .setInUse(v.inUse())
        .setWorking(v.working())
        .setAvailable(v.available())
        .setDecommissioned(v.decommissioned() != null);
    if (v.customerId() != null) {
      b.setCustomerId(v.customerId()).setSiteId(v.siteId()).setClaimedAt(timestamp(v.claimedAt()));
    }
    if (v.stageSince() != null) {
      b.setStageSince(timestamp(v.stageSince()));
    }
    if (v.activatedAt() != null) {
      b.setActivatedAt(timestamp(v.activatedAt()));
    }
    if (v.lastSeen() != null) {
      b.setLastSeen(timestamp(v.lastSeen()));
    }
    if (v.connectivitySince() != null) {
      b.setConnectivitySince(timestamp(v.connectivitySince()));
    }
    if (v.batteryPercent() != null) {
      b.setBatteryPercent(v.batteryPercent());
    }
    if (v.firmwareVersion() != null) {
      b.setFirmwareVersion(v.firmwareVersion());
    }
    for (OpenFault f : v.faults()) {
      b.addFaults(Fault.newBuilder()
          .setCode(f.code())
          .setSeverity(io.twinfleet.protocol.v1.Severity.valueOf(f.severity().name()))
          .setSince(timestamp(f.since())));
    }
    if (v.decommissioned() != null) {
      b.setDecommissionReason(io.twinfleet.protocol.v1.DecommissionReason.valueOf(v.decommissioned().name()));
    }
    DeviceView.Uptimes u = v.uptime();
    if (u != null) {
      if (u.last24h() != null) {
        b.setUptime24H(uptime(u.last24h()));
      }
      if (u.last7d() != null) {
        b.setUptime7D(uptime(u.last7d()));
      }
      if (u.last30d() != null) {
        b.setUptime30D(uptime(u.last30d()));
      }
      b.setUptimeSinceActivation(uptime(u.sinceActivation()));
    }
    if (v.churnRisk().at() != null) {
      b.setChurnRisk(toProto(v.churnRisk(), v.stage(), false));
    }
    if (!v.alerts().isEmpty()) {
      AlertSubject device = new AlertSubject(v.customerId(), v.siteId(), v.model(), v.stage());
      v.alerts().forEach(a -> b.addAlerts(AlertMapping.toProto(v.deviceId(), a, device)));
    }
    return b.build();
  }

  /** {@code stored}: the risk as a twin stored it, with when; otherwise scored as asked, so its time adds nothing. */
  static io.twinfleet.protocol.v1.ChurnRisk toProto(ChurnRisk risk, Stage stage, boolean stored) {
    io.twinfleet.protocol.v1.ChurnRisk.Builder b = io.twinfleet.protocol.v1.ChurnRisk.newBuilder().setScore(risk.score());
    if (stored) {
      b.setScoredAt(timestamp(risk.at()));
    }
    for (ChurnRisk.Scored f : risk.factors()) {
      b.addFactors(RiskFactor.newBuilder()
          .setKind(RiskFactorKind.valueOf("RISK_" + f.factor().name()))
          .setPoints(f.points())
          .setReason(ChurnRisk.reason(f.factor(), f.measure(), stage)));
    }
    return b.build();
  }

  private static Uptime uptime(Measure m) {
    return Uptime.newBuilder().setRatio(m.ratio()).setCounted(duration(m.counted())).setOffline(duration(m.offline())).build();
  }

  /**
   * A validated domain reading. {@code index} is the reading's position in its batch, or -1 for a
   * single reading; it only names fields in error messages.
   */
  static Reading reading(io.twinfleet.protocol.v1.Reading r, int index, Instant now, DeviceSettings settings) {
    String deviceId = Validation.id(field(index, "device_id"), r.getDeviceId());
    if (!r.hasObservedAt()) {
      throw new InvalidField(field(index, "observed_at"), "required");
    }
    Instant observedAt = Validation.observedAt(field(index, "observed_at"), instant(field(index, "observed_at"), r.getObservedAt()), now, settings);
    Integer battery = r.hasBatteryPercent() ? Validation.percent(field(index, "battery_percent"), r.getBatteryPercent()) : null;
    String firmware = r.hasFirmwareVersion() ? Validation.text(field(index, "firmware_version"), r.getFirmwareVersion()) : null;
    Boolean inUse = r.hasInUse() ? r.getInUse() : null;
    List<Reading.ReportedFault> faults = r.hasFaults() ? faults(r.getFaults(), index) : null;
    return new Reading(deviceId, observedAt, battery, firmware, inUse, faults);
  }

  private static List<Reading.ReportedFault> faults(FaultSet set, int index) {
    if (set.getFaultsCount() > Validation.MAX_FAULTS_PER_READING) {
      throw new InvalidField(field(index, "faults"), set.getFaultsCount() + " faults; at most " + Validation.MAX_FAULTS_PER_READING);
    }
    List<Reading.ReportedFault> faults = new ArrayList<>(set.getFaultsCount());
    Set<String> codes = new HashSet<>();
    for (int i = 0; i < set.getFaultsCount(); i++) {
      ReportedFault f = set.getFaults(i);
      String name = field(index, "faults.faults[" + i + "]");
      String code = Validation.text(name + ".code", f.getCode());
      if (!codes.add(code)) {
        throw new InvalidField(name + ".code", "'" + code + "' appears twice");
      }
      faults.add(new Reading.ReportedFault(code, severity(name + ".severity", f.getSeverity())));
    }
    return faults;
  }

  static Severity severity(String field, io.twinfleet.protocol.v1.Severity s) {
    return switch (s) {
      case INFO -> Severity.INFO;
      case WARNING -> Severity.WARNING;
      case CRITICAL -> Severity.CRITICAL;
      default -> throw new InvalidField(field, "must be INFO, WARNING or CRITICAL");
    };
  }

  static DecommissionReason reason(String field, io.twinfleet.protocol.v1.DecommissionReason r) {
    return switch (r) {
      case RETURNED -> DecommissionReason.RETURNED;
      case REPLACED -> DecommissionReason.REPLACED;
      case CHURNED -> DecommissionReason.CHURNED;
      case BROKEN -> DecommissionReason.BROKEN;
      default -> throw new InvalidField(field, "must be RETURNED, REPLACED, CHURNED or BROKEN");
    };
  }

  /** A google.protobuf.Duration as its spec allows: within 10,000 years, nanos within a second and of the seconds' sign. */
  static Duration duration(String field, com.google.protobuf.Duration d) {
    long s = d.getSeconds();
    int n = d.getNanos();
    if (n < -999_999_999 || n > 999_999_999 || s < -315_576_000_000L || s > 315_576_000_000L || s > 0 && n < 0 || s < 0 && n > 0) {
      throw new InvalidField(field, "not a valid duration (seconds " + s + ", nanos " + n + ")");
    }
    return Duration.ofSeconds(s, n);
  }

  static Instant instant(String field, Timestamp t) {
    if (t.getNanos() < 0 || t.getNanos() > 999_999_999 || t.getSeconds() < -62_135_596_800L || t.getSeconds() > 253_402_300_799L) {
      throw new InvalidField(field, "not a valid timestamp");
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  static DeviceJourney toProto(JourneyView j) {
    DeviceJourney.Builder b = DeviceJourney.newBuilder()
        .setDeviceId(j.deviceId())
        .setModel(j.model())
        .setStage(io.twinfleet.protocol.v1.Stage.valueOf(j.stage().name()))
        .setStageSince(timestamp(j.stageSince()));
    if (j.customerId() != null) {
      b.setCustomerId(j.customerId()).setSiteId(j.siteId()).setClaimedAt(timestamp(j.claimedAt()));
    }
    if (j.activatedAt() != null) {
      b.setActivatedAt(timestamp(j.activatedAt()));
    }
    for (Stages.Transition t : j.stageChanges()) {
      b.addStageChanges(StageChange.newBuilder()
          .setFrom(io.twinfleet.protocol.v1.Stage.valueOf(t.from().name()))
          .setTo(io.twinfleet.protocol.v1.Stage.valueOf(t.to().name()))
          .setAt(timestamp(t.at())));
    }
    for (Touchpoint t : j.touchpoints()) {
      b.addTouchpoints(toProto(t));
    }
    if (j.churnRisk().at() != null) {
      b.setChurnRisk(toProto(j.churnRisk(), j.stage(), false));
    }
    return b.build();
  }

  static io.twinfleet.protocol.v1.Touchpoint toProto(Touchpoint t) {
    return io.twinfleet.protocol.v1.Touchpoint.newBuilder()
        .setTouchpointId(t.id())
        .setKind(io.twinfleet.protocol.v1.TouchpointKind.valueOf(t.kind().name()))
        .setNote(t.note())
        .setAt(timestamp(t.at()))
        .setRecordedAt(timestamp(t.recordedAt()))
        .build();
  }

  static TouchpointKind touchpointKind(String field, io.twinfleet.protocol.v1.TouchpointKind k) {
    if (k == io.twinfleet.protocol.v1.TouchpointKind.TOUCHPOINT_KIND_UNSPECIFIED || k == io.twinfleet.protocol.v1.TouchpointKind.UNRECOGNIZED) {
      throw new InvalidField(field, "required: one of " + Arrays.toString(TouchpointKind.values()));
    }
    return TouchpointKind.valueOf(k.name());
  }

  /** A stage a client asks about; UNCLAIMED devices have no journey, so journey queries refuse it. */
  static Stage stage(String field, io.twinfleet.protocol.v1.Stage s, boolean unclaimedAllowed) {
    if (s == io.twinfleet.protocol.v1.Stage.STAGE_UNSPECIFIED || s == io.twinfleet.protocol.v1.Stage.UNRECOGNIZED) {
      throw new InvalidField(field, "not a stage: " + s + "; one of " + Arrays.toString(StageFunnel.STAGES));
    }
    if (s == io.twinfleet.protocol.v1.Stage.UNCLAIMED && !unclaimedAllowed) {
      throw new InvalidField(field, "UNCLAIMED devices have no journey yet; one of " + Arrays.toString(StageFunnel.STAGES));
    }
    return Stage.valueOf(s.name());
  }

  static DeviceStage toProto(JourneyRow r) {
    DeviceStage.Builder b = DeviceStage.newBuilder()
        .setDeviceId(r.deviceId())
        .setCustomerId(r.customerId())
        .setSiteId(r.siteId())
        .setModel(r.model())
        .setStage(io.twinfleet.protocol.v1.Stage.valueOf(r.stage()))
        .setStageSince(timestamp(r.stageSince()))
        .setClaimedAt(timestamp(r.claimedAt()))
        .setDecommissioned(r.decommissioned());
    if (r.activatedAt() != null) {
      b.setActivatedAt(timestamp(r.activatedAt()));
    }
    return b.build();
  }

  static AtRiskDevice toAtRisk(JourneyRow r) {
    Stage stage = Stage.valueOf(r.stage());
    return AtRiskDevice.newBuilder()
        .setDeviceId(r.deviceId())
        .setCustomerId(r.customerId())
        .setSiteId(r.siteId())
        .setModel(r.model())
        .setStage(io.twinfleet.protocol.v1.Stage.valueOf(r.stage()))
        .setChurnRisk(toProto(new ChurnRisk(r.riskScore(), ChurnRisk.decode(r.riskFactors()), r.riskAt()), stage, true))
        .build();
  }

  static io.twinfleet.protocol.v1.StageFunnel toProto(StageFunnel f) {
    io.twinfleet.protocol.v1.StageFunnel.Builder b = io.twinfleet.protocol.v1.StageFunnel.newBuilder();
    long total = 0;
    for (Stage s : StageFunnel.STAGES) {
      long n = f.devices(s);
      total += n;
      b.addStages(StageCount.newBuilder().setStage(io.twinfleet.protocol.v1.Stage.valueOf(s.name())).setDevices(n));
    }
    b.setDevices(total);
    for (StageFunnel.Activation a : f.activations()) {
      b.addClaimToActivation(ActivationTimes.newBuilder()
          .setModel(a.model())
          .setDevices(a.seconds().getTotalCount())
          .setP50(duration(Duration.ofSeconds(a.seconds().getValueAtPercentile(50))))
          .setP90(duration(Duration.ofSeconds(a.seconds().getValueAtPercentile(90))))
          .setP99(duration(Duration.ofSeconds(a.seconds().getValueAtPercentile(99))))
          .setMax(duration(Duration.ofSeconds(a.seconds().getMaxValue()))));
    }
    return b.build();
  }

  static StageChangeEvent toProto(StageChangeWatch.Change c) {
    return StageChangeEvent.newBuilder()
        .setDeviceId(c.deviceId())
        .setFrom(io.twinfleet.protocol.v1.Stage.valueOf(c.from().name()))
        .setTo(io.twinfleet.protocol.v1.Stage.valueOf(c.to().name()))
        .setAt(timestamp(c.at()))
        .setResumeToken(c.resumeToken())
        .build();
  }

  private static String field(int index, String name) {
    return index < 0 ? name : "readings[" + index + "]." + name;
  }
}
