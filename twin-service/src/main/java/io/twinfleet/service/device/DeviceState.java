package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.device.DeviceTwin.*;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a twin knows for certain: everything here was built from stored events. The live part of the
 * telemetry (last seen, battery between thresholds) moves faster than events and is held beside
 * this state by {@link DeviceTwin}; it is checkpointed into {@link Connectivity} and
 * {@link Telemetry} by {@link TelemetryCheckpointed}.
 *
 * <p>A twin is either {@link Unregistered} or a {@link DeviceState}; a retired device is a
 * DeviceState with a decommission reason.
 */
public sealed interface DeviceState extends CborSerializable permits DeviceState.Unregistered, DeviceState.Registered {

  /** No device with this id was ever registered. */
  record Unregistered() implements DeviceState {}

  Unregistered UNREGISTERED = new Unregistered();

  /** Fixed at registration. */
  record Identity(String model, String serial, Instant registeredAt, Duration heartbeatInterval) implements CborSerializable {}

  /** Who owns the device and where it is; null fields until claimed. */
  record Owner(String customerId, String siteId, Instant claimedAt) implements CborSerializable {
    static final Owner NONE = new Owner(null, null, null);
  }

  /** The journey stage and its milestones. */
  record Journey(Stage stage, Instant stageSince, Instant activatedAt) implements CborSerializable {}

  /** Online or offline since when, and the last stored sighting (null until the first report). */
  record Connectivity(boolean online, Instant since, Instant lastSeen) implements CborSerializable {
    static final Connectivity NEVER_SEEN = new Connectivity(false, null, null);
  }

  /** Reported values as last stored. */
  record Telemetry(Integer batteryPercent, boolean batteryLow, String firmwareVersion, boolean inUse, List<OpenFault> faults)
      implements CborSerializable {}

  /** A fault open on the device. */
  record OpenFault(String code, Severity severity, Instant since) implements CborSerializable {}

  /** A registered device, claimed or not, active or retired. */
  record Registered(
      Identity identity,
      Owner owner,
      Journey journey,
      Connectivity connectivity,
      Telemetry telemetry,
      DecommissionReason decommissioned)
      implements DeviceState {

    public static Registered of(DeviceRegistered e) {
      return new Registered(
          // Models and firmware versions repeat across a fleet: one copy each, not one per twin.
          new Identity(e.model().intern(), e.serial(), e.at(), e.heartbeatInterval()),
          Owner.NONE,
          new Journey(Stage.UNCLAIMED, e.at(), null),
          Connectivity.NEVER_SEEN,
          new Telemetry(null, false, e.firmwareVersion() == null ? null : e.firmwareVersion().intern(), false, List.of()),
          null);
    }

    public boolean retired() {
      return decommissioned != null;
    }

    public boolean claimed() {
      return owner.customerId() != null;
    }

    public boolean activated() {
      return journey.activatedAt() != null;
    }

    public boolean hasCriticalFault() {
      return telemetry.faults().stream().anyMatch(f -> f.severity() == Severity.CRITICAL);
    }

    Registered claim(DeviceClaimed e) {
      return withOwner(new Owner(e.customerId(), e.siteId(), e.at()));
    }

    Registered moved(DeviceMoved e) {
      return withOwner(new Owner(owner.customerId(), e.toSiteId(), owner.claimedAt()));
    }

    Registered activate(DeviceActivated e) {
      return withJourney(new Journey(journey.stage(), journey.stageSince(), e.at()));
    }

    Registered stageChanged(StageChanged e) {
      return withJourney(new Journey(e.to(), e.at(), journey.activatedAt()));
    }

    Registered cameOnline(CameOnline e) {
      return withConnectivity(new Connectivity(true, e.at(), e.at()));
    }

    Registered wentOffline(WentOffline e) {
      return withConnectivity(new Connectivity(false, e.at(), connectivity.lastSeen()));
    }

    Registered checkpointed(TelemetryCheckpointed e) {
      Telemetry t = telemetry;
      return withConnectivity(new Connectivity(connectivity.online(), connectivity.since(), e.lastSeen()))
          .withTelemetry(new Telemetry(e.batteryPercent(), t.batteryLow(), t.firmwareVersion(), t.inUse(), t.faults()));
    }

    Registered firmwareChanged(FirmwareChanged e) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(t.batteryPercent(), t.batteryLow(), e.to().intern(), t.inUse(), t.faults()));
    }

    Registered batteryLow(BatteryLow e) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(e.percent(), true, t.firmwareVersion(), t.inUse(), t.faults()));
    }

    Registered batteryRecovered(BatteryRecovered e) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(e.percent(), false, t.firmwareVersion(), t.inUse(), t.faults()));
    }

    Registered faultRaised(FaultRaised e) {
      List<OpenFault> faults = new ArrayList<>(telemetry.faults().size() + 1);
      Instant since = e.at();
      for (OpenFault f : telemetry.faults()) {
        if (f.code().equals(e.code())) {
          since = f.since(); // a severity change keeps the fault's age
        } else {
          faults.add(f);
        }
      }
      faults.add(new OpenFault(e.code(), e.severity(), since));
      return withFaults(faults);
    }

    Registered faultCleared(FaultCleared e) {
      return withFaults(telemetry.faults().stream().filter(f -> !f.code().equals(e.code())).toList());
    }

    Registered usage(boolean inUse) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(t.batteryPercent(), t.batteryLow(), t.firmwareVersion(), inUse, t.faults()));
    }

    Registered retire(DeviceDecommissioned e) {
      return new Registered(identity, owner, journey, connectivity, telemetry, e.reason());
    }

    private Registered withFaults(List<OpenFault> faults) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(t.batteryPercent(), t.batteryLow(), t.firmwareVersion(), t.inUse(), List.copyOf(faults)));
    }

    private Registered withOwner(Owner o) {
      return new Registered(identity, o, journey, connectivity, telemetry, decommissioned);
    }

    private Registered withJourney(Journey j) {
      return new Registered(identity, owner, j, connectivity, telemetry, decommissioned);
    }

    private Registered withConnectivity(Connectivity c) {
      return new Registered(identity, owner, journey, c, telemetry, decommissioned);
    }

    private Registered withTelemetry(Telemetry t) {
      return new Registered(identity, owner, journey, connectivity, t, decommissioned);
    }
  }
}
