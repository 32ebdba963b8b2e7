package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.device.DeviceTwin.*;
import io.twinfleet.service.quality.SpanLog;
import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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

  /**
   * The journey stage, its milestones, and the touchpoints with the customer: the most recent
   * {@link #KEPT_TOUCHPOINTS} by when they happened, oldest first. The stage history follows from
   * the milestones (see {@link Stages#history}). {@code retiredAt} is when it was decommissioned
   * (null if it is not, and in snapshots from before it was kept: there the retirement is the
   * stage's start). {@code riskScore} and {@code riskFactors} are the churn risk last stored, its
   * factors as {@link ChurnRisk#factorCode} (0 and 0 until one is).
   */
  record Journey(Stage stage, Instant stageSince, Instant activatedAt, List<Touchpoint> touchpoints, Instant retiredAt,
      int riskScore, int riskFactors) implements CborSerializable {
    static final int KEPT_TOUCHPOINTS = 100;

    public Journey {
      // Snapshots from before touchpoints were kept have none.
      touchpoints = touchpoints == null || touchpoints.isEmpty() ? List.of() : touchpoints;
    }

    Journey withStage(Stage to, Instant since) {
      return new Journey(to, since, activatedAt, touchpoints, retiredAt, riskScore, riskFactors);
    }

    Journey withTouchpoint(Touchpoint t) {
      List<Touchpoint> all = new ArrayList<>(touchpoints.size() + 1);
      all.addAll(touchpoints);
      int at = all.size();
      while (at > 0 && all.get(at - 1).at().isAfter(t.at())) {
        at--;
      }
      all.add(at, t);
      List<Touchpoint> kept = all.size() > KEPT_TOUCHPOINTS ? all.subList(all.size() - KEPT_TOUCHPOINTS, all.size()) : all;
      return new Journey(stage, stageSince, activatedAt, List.copyOf(kept), retiredAt, riskScore, riskFactors);
    }

    /** The kept touchpoint with this id, or null. */
    Touchpoint touchpoint(String id) {
      for (Touchpoint t : touchpoints) {
        if (t.id().equals(id)) {
          return t;
        }
      }
      return null;
    }
  }

  /**
   * Online or offline since when, and the last stored sighting (null until the first report).
   * {@code lastSeenExact} when that sighting was stored as the twin stopped gracefully, so it is the
   * real last sighting; otherwise memory may have held a newer one, by up to a checkpoint interval.
   */
  record Connectivity(boolean online, Instant since, Instant lastSeen, boolean lastSeenExact) implements CborSerializable {
    static final Connectivity NEVER_SEEN = new Connectivity(false, null, null, false);
  }

  /**
   * The device's offline episodes within its life (after activation) that have ended: those that
   * ended within the last {@link #KEPT} as {@code [from, to)} pairs of epoch milliseconds, oldest
   * first, and the offline time of every ended episode since activation. The episode still open is
   * not here: it is the connectivity's {@code since}.
   *
   * <p>Bounded: beyond {@link #MAX_SPANS} episodes the two closest are merged (the gap between them
   * then counts as offline in the windows, though not in the total), so a device flapping all month
   * costs at most 16 KB and its windowed uptime errs low by the smallest gaps.
   */
  record OfflineHistory(long[] spans, long totalMillis) implements CborSerializable {
    static final OfflineHistory NONE = new OfflineHistory(new long[0], 0);
    static final Duration KEPT = Duration.ofDays(30);
    static final int MAX_SPANS = 1000;

    public OfflineHistory {
      if (spans == null) {
        spans = new long[0];
      }
    }

    /** With the episode {@code [from, to)} ended, episodes that ended more than {@link #KEPT} before it dropped. */
    OfflineHistory ended(Instant from, Instant to) {
      long f = from.toEpochMilli();
      long t = to.toEpochMilli();
      if (t <= f) {
        return this;
      }
      return new OfflineHistory(SpanLog.appended(spans, f, t, t - KEPT.toMillis(), MAX_SPANS), totalMillis + (t - f));
    }

    /** The kept episodes as spans, oldest first. */
    List<Span> recent() {
      return SpanLog.spans(spans, null);
    }

    boolean none() {
      return spans.length == 0 && totalMillis == 0;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof OfflineHistory h && totalMillis == h.totalMillis && Arrays.equals(spans, h.spans);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(spans) + Long.hashCode(totalMillis);
    }

    @Override
    public String toString() {
      return "OfflineHistory[" + spans.length / 2 + " kept, " + Duration.ofMillis(totalMillis) + " in all]";
    }
  }

  /**
   * Reported values as last stored; {@code batteryTrend} is the battery's trend as last checkpointed
   * ({@link BatteryTrend#packed}), null until it was.
   */
  record Telemetry(Integer batteryPercent, boolean batteryLow, String firmwareVersion, boolean inUse, List<OpenFault> faults,
      String batteryTrend) implements CborSerializable {}

  /** A fault open on the device. */
  record OpenFault(String code, Severity severity, Instant since) implements CborSerializable {}

  /** A registered device, claimed or not, active or retired. */
  record Registered(
      Identity identity,
      Owner owner,
      Journey journey,
      Connectivity connectivity,
      Telemetry telemetry,
      DecommissionReason decommissioned,
      OfflineHistory offline,
      Alerts alerts)
      implements DeviceState {

    public Registered {
      // Snapshots from before offline histories (alerts) were kept have none; most twins share the empty one.
      if (offline == null || offline.none()) {
        offline = OfflineHistory.NONE;
      }
      if (alerts == null || alerts.raised() == 0) {
        alerts = Alerts.NONE;
      }
    }

    public static Registered of(DeviceRegistered e) {
      return new Registered(
          // Models and firmware versions repeat across a fleet: one copy each, not one per twin.
          new Identity(e.model().intern(), e.serial(), e.at(), e.heartbeatInterval()),
          Owner.NONE,
          new Journey(Stage.UNCLAIMED, e.at(), null, List.of(), null, 0, 0),
          Connectivity.NEVER_SEEN,
          new Telemetry(null, false, e.firmwareVersion() == null ? null : e.firmwareVersion().intern(), false, List.of(), null),
          null,
          OfflineHistory.NONE,
          Alerts.NONE);
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

    /** When the device was decommissioned, or null. */
    public Instant retiredAt() {
      if (!retired()) {
        return null;
      }
      return journey.retiredAt() != null ? journey.retiredAt() : journey.stageSince();
    }

    public boolean hasCriticalFault() {
      return telemetry.faults().stream().anyMatch(f -> f.severity() == Severity.CRITICAL);
    }

    /** How the device stands for the site it joins now. */
    public SiteStatus siteStatus() {
      List<String> critical = new ArrayList<>(0);
      for (OpenFault f : telemetry.faults()) {
        if (f.severity() == Severity.CRITICAL) {
          critical.add(f.code());
        }
      }
      return new SiteStatus(activated(), connectivity.online(), telemetry.inUse(), critical);
    }

    Registered claim(DeviceClaimed e) {
      return withOwner(new Owner(e.customerId(), e.siteId(), e.at()));
    }

    Registered moved(DeviceMoved e) {
      return withOwner(new Owner(owner.customerId(), e.toSiteId(), owner.claimedAt()));
    }

    Registered activate(DeviceActivated e) {
      Journey j = journey;
      return withJourney(new Journey(j.stage(), j.stageSince(), e.at(), j.touchpoints(), j.retiredAt(), j.riskScore(), j.riskFactors()));
    }

    Registered riskScored(ChurnRiskChanged e) {
      Journey j = journey;
      return withJourney(new Journey(j.stage(), j.stageSince(), j.activatedAt(), j.touchpoints(), j.retiredAt(), e.score(),
          ChurnRisk.factorCode(e.factors())));
    }

    Registered stageChanged(StageChanged e) {
      return withJourney(journey.withStage(e.to(), e.at()));
    }

    Registered touchpointRecorded(TouchpointRecorded e) {
      return withJourney(journey.withTouchpoint(Touchpoint.of(e)));
    }

    Registered cameOnline(CameOnline e) {
      Connectivity c = connectivity;
      OfflineHistory history = offline;
      if (!c.online() && c.since() != null && activated()) {
        Instant from = c.since().isAfter(journey.activatedAt()) ? c.since() : journey.activatedAt();
        history = offline.ended(from, e.at());
      }
      return new Registered(identity, owner, journey, new Connectivity(true, e.at(), e.at(), false), telemetry, decommissioned, history, alerts);
    }

    Registered wentOffline(WentOffline e) {
      return withConnectivity(new Connectivity(false, e.at(), connectivity.lastSeen(), connectivity.lastSeenExact()));
    }

    Registered checkpointed(TelemetryCheckpointed e) {
      Telemetry t = telemetry;
      return withConnectivity(new Connectivity(connectivity.online(), connectivity.since(), e.lastSeen(), e.graceful()))
          .withTelemetry(new Telemetry(e.batteryPercent(), t.batteryLow(), t.firmwareVersion(), t.inUse(), t.faults(),
              e.batteryTrend() != null ? e.batteryTrend() : t.batteryTrend()));
    }

    Registered firmwareChanged(FirmwareChanged e) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(t.batteryPercent(), t.batteryLow(), e.to().intern(), t.inUse(), t.faults(), t.batteryTrend()));
    }

    Registered batteryLow(BatteryLow e) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(e.percent(), true, t.firmwareVersion(), t.inUse(), t.faults(), t.batteryTrend()));
    }

    Registered batteryRecovered(BatteryRecovered e) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(e.percent(), false, t.firmwareVersion(), t.inUse(), t.faults(), t.batteryTrend()));
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
      return withTelemetry(new Telemetry(t.batteryPercent(), t.batteryLow(), t.firmwareVersion(), inUse, t.faults(), t.batteryTrend()));
    }

    Registered retire(DeviceDecommissioned e) {
      Journey j = new Journey(journey.stage(), journey.stageSince(), journey.activatedAt(), journey.touchpoints(), e.at(),
          journey.riskScore(), journey.riskFactors());
      return new Registered(identity, owner, j, connectivity, telemetry, e.reason(), offline, alerts);
    }

    Registered alertChanged(Alert changed) {
      return new Registered(identity, owner, journey, connectivity, telemetry, decommissioned, offline, alerts.with(changed));
    }

    /**
     * When the device's offline episodes that began at or after {@code from} began, oldest first:
     * the kept ended ones, and the one still open since {@code openSince} (null when there is none).
     */
    public List<Instant> disconnectsSince(Instant from, Instant openSince) {
      List<Instant> out = new ArrayList<>(0);
      for (Span span : offline.recent()) {
        if (!span.from().isBefore(from)) {
          out.add(span.from());
        }
      }
      if (openSince != null && !openSince.isBefore(from)) {
        out.add(openSince);
      }
      return out;
    }

    /** When the offline episode still open began, as stored; null while on line or before the first report. */
    public Instant offlineSince() {
      return !connectivity.online() && connectivity.lastSeen() != null ? connectivity.since() : null;
    }

    private Registered withFaults(List<OpenFault> faults) {
      Telemetry t = telemetry;
      return withTelemetry(new Telemetry(t.batteryPercent(), t.batteryLow(), t.firmwareVersion(), t.inUse(), List.copyOf(faults), t.batteryTrend()));
    }

    private Registered withOwner(Owner o) {
      return new Registered(identity, o, journey, connectivity, telemetry, decommissioned, offline, alerts);
    }

    private Registered withJourney(Journey j) {
      return new Registered(identity, owner, j, connectivity, telemetry, decommissioned, offline, alerts);
    }

    private Registered withConnectivity(Connectivity c) {
      return new Registered(identity, owner, journey, c, telemetry, decommissioned, offline, alerts);
    }

    private Registered withTelemetry(Telemetry t) {
      return new Registered(identity, owner, journey, connectivity, t, decommissioned, offline, alerts);
    }
  }
}
