package io.twinfleet.service.site;

import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.device.DeviceTwin.SiteStatus;
import io.twinfleet.service.quality.Sla;
import io.twinfleet.service.quality.SpanLog;
import io.twinfleet.service.quality.Spans;
import io.twinfleet.service.quality.Uptime.Measure;
import io.twinfleet.service.quality.Uptime.Span;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a site knows, all of it built from its stored events: its devices as their events told it,
 * and the history of its availability.
 *
 * <p>A device is <em>active</em> at its site from its activation until it leaves or retires; it is
 * <em>working</em> when active, online and without a critical fault, and <em>free</em> when working
 * and not in use. The site is <em>in service</em> while it has an active device and
 * <em>available</em> (commercially) while one is free.
 *
 * <p>Devices' events reach a site in the order their projections deliver them, which is not the
 * order they happened: one device's in order, different devices' as their projection slices go,
 * seconds apart and more when a slice retries. So a site keeps its latest changes, those within its
 * reorder window of the newest, as {@code pending}, on top of the state before them ({@code
 * settled}): a change that arrives late is put in its place among them and the pending ones are
 * replayed, so it counts from its own time. Older changes are settled; one stamped before the settled
 * state's last change takes effect at that change's time (times there only move forward).
 */
public record SiteState(
    Map<String, Member> members,
    Instant lastChangeAt,
    Instant inServiceSince,
    Instant unavailableSince,
    long[] served,
    long[] down,
    List<Maintenance> maintenance,
    Double target,
    SiteState settled,
    List<DeviceChange> pending)
    implements CborSerializable {

  /** How long ended spans are kept: the SLA of any of the last twelve months can be asked. */
  static final Duration KEPT = Duration.ofDays(400);
  /** Ended spans kept per kind at most (see {@link SpanLog}). */
  static final int MAX_SPANS = 2000;
  /** Pending changes kept at most, whatever the window: a replay costs this many steps. */
  static final int MAX_PENDING = 128;

  public static final SiteState EMPTY = new SiteState(Map.of(), null, null, null, new long[0], new long[0], List.of(), null, null, List.of());

  public SiteState {
    served = served == null ? new long[0] : served;
    down = down == null ? new long[0] : down;
    maintenance = maintenance == null ? List.of() : maintenance;
    pending = pending == null ? List.of() : pending;
  }

  /**
   * A device as its site knows it: the sequence number of its last event the site applied, and its
   * status. {@code present} is false once it left the site or retired; it is kept so that its older
   * events, delivered again, are recognised.
   */
  public record Member(long seqNr, boolean present, boolean activated, boolean online, boolean inUse, List<String> criticalFaults)
      implements CborSerializable {

    public Member {
      criticalFaults = criticalFaults == null ? List.of() : criticalFaults;
    }

    boolean active() {
      return present && activated;
    }

    boolean working() {
      return active() && online && criticalFaults.isEmpty();
    }

    boolean free() {
      return working() && !inUse;
    }
  }

  /** A declared maintenance window {@code [from, to)}. */
  public record Maintenance(String windowId, Instant from, Instant to, String reason) implements CborSerializable {
    Span span() {
      return new Span(from, to);
    }
  }

  /** Device counts at one moment. */
  public record Counts(int devices, int active, int working, int free, int inUse) {
    public boolean inService() {
      return active > 0;
    }

    public boolean available() {
      return free > 0;
    }
  }

  /** Whether any device ever joined: a site exists from its first device on. */
  public boolean exists() {
    return !members.isEmpty();
  }

  public Counts counts() {
    int devices = 0;
    int active = 0;
    int working = 0;
    int free = 0;
    int inUse = 0;
    for (Member m : members.values()) {
      devices += m.present ? 1 : 0;
      active += m.active() ? 1 : 0;
      working += m.working() ? 1 : 0;
      free += m.free() ? 1 : 0;
      inUse += m.active() && m.inUse ? 1 : 0;
    }
    return new Counts(devices, active, working, free, inUse);
  }

  /** Whether this change of its device is new to the site (not one it applied before). */
  public boolean isNew(DeviceChange c) {
    Member m = members.get(c.deviceId());
    if (m == null) {
      return c.kind() == DeviceChange.Kind.JOINED;
    }
    return c.seqNr() > m.seqNr() && (m.present || c.kind() == DeviceChange.Kind.JOINED);
  }

  /**
   * The state after {@code c}, which must be new (see {@link #isNew}): {@code c} goes among the
   * pending changes in the order of their times (after its own device's earlier ones); those older
   * than {@code reorderWindow} before the newest, and the oldest beyond {@link #MAX_PENDING}, are
   * settled.
   */
  public SiteState applied(DeviceChange c, Duration reorderWindow) {
    List<DeviceChange> p = new ArrayList<>(pending.size() + 1);
    p.addAll(pending);
    int at = p.size();
    while (at > 0 && p.get(at - 1).at().isAfter(c.at()) && !p.get(at - 1).deviceId().equals(c.deviceId())) {
      at--;
    }
    p.add(at, c);
    Instant newest = lastChangeAt == null || c.at().isAfter(lastChangeAt) ? c.at() : lastChangeAt;
    Instant horizon = newest.minus(reorderWindow);
    int settle = 0;
    while (settle < p.size() && (p.size() - settle > MAX_PENDING || !p.get(settle).at().isAfter(horizon))) {
      settle++;
    }
    SiteState base = settled != null ? settled : this;
    for (DeviceChange s : p.subList(0, settle)) {
      base = base.tallied(s);
    }
    List<DeviceChange> rest = List.copyOf(p.subList(settle, p.size()));
    SiteState now;
    if (at == p.size() - 1) {
      now = tallied(c); // in order: the pending ones need no replay
    } else {
      now = base;
      for (DeviceChange r : rest) {
        now = now.tallied(r);
      }
    }
    return new SiteState(now.members, now.lastChangeAt, now.inServiceSince, now.unavailableSince, now.served, now.down,
        maintenance, target, rest.isEmpty() ? null : base, rest);
  }

  /** The state after {@code c} alone, with nothing pending; a change older than the last takes effect at the last one's time. */
  private SiteState tallied(DeviceChange c) {
    Counts before = counts();
    Map<String, Member> next = new HashMap<>(members);
    next.put(c.deviceId(), member(members.get(c.deviceId()), c));
    SiteState s = new SiteState(Map.copyOf(next), lastChangeAt, inServiceSince, unavailableSince, served, down, maintenance, target,
        null, List.of());
    Instant at = lastChangeAt == null || c.at().isAfter(lastChangeAt) ? c.at() : lastChangeAt;
    return s.transition(before, s.counts(), at);
  }

  private static Member member(Member m, DeviceChange c) {
    return switch (c.kind()) {
      case JOINED -> {
        SiteStatus j = c.joined() == null ? DeviceChange.MOVED_UNKNOWN : c.joined();
        yield new Member(c.seqNr(), true, j.activated(), j.online(), j.inUse(), j.criticalFaults());
      }
      case LEFT, RETIRED -> new Member(c.seqNr(), false, m.activated, false, false, List.of());
      case ACTIVATED -> new Member(c.seqNr(), true, true, m.online, m.inUse, m.criticalFaults);
      case ONLINE -> new Member(c.seqNr(), true, m.activated, true, m.inUse, m.criticalFaults);
      case OFFLINE -> new Member(c.seqNr(), true, m.activated, false, m.inUse, m.criticalFaults);
      case USAGE_STARTED -> new Member(c.seqNr(), true, m.activated, m.online, true, m.criticalFaults);
      case USAGE_ENDED -> new Member(c.seqNr(), true, m.activated, m.online, false, m.criticalFaults);
      case CRITICAL_FAULT -> {
        List<String> codes = new ArrayList<>(m.criticalFaults);
        if (!codes.contains(c.faultCode())) {
          codes.add(c.faultCode());
        }
        yield new Member(c.seqNr(), true, m.activated, m.online, m.inUse, List.copyOf(codes));
      }
      case FAULT_NOT_CRITICAL -> {
        List<String> codes = new ArrayList<>(m.criticalFaults);
        codes.remove(c.faultCode());
        yield new Member(c.seqNr(), true, m.activated, m.online, m.inUse, List.copyOf(codes));
      }
    };
  }

  /** Opens and closes the service and availability spans as the counts moved at {@code at}. */
  private SiteState transition(Counts before, Counts after, Instant at) {
    Instant served0 = inServiceSince;
    Instant down0 = unavailableSince;
    long[] servedLog = served;
    long[] downLog = down;
    long keepAfter = at.minus(KEPT).toEpochMilli();
    boolean wasDown = before.inService() && !before.available();
    boolean isDown = after.inService() && !after.available();
    if (wasDown && !isDown) {
      downLog = SpanLog.appended(downLog, down0.toEpochMilli(), at.toEpochMilli(), keepAfter, MAX_SPANS);
      down0 = null;
    } else if (!wasDown && isDown) {
      down0 = at;
    }
    if (before.inService() && !after.inService()) {
      servedLog = SpanLog.appended(servedLog, served0.toEpochMilli(), at.toEpochMilli(), keepAfter, MAX_SPANS);
      served0 = null;
    } else if (!before.inService() && after.inService()) {
      served0 = at;
    }
    return new SiteState(members, at, served0, down0, servedLog, downLog, maintenance, target, null, List.of());
  }

  /** With a maintenance window declared; windows that ended more than {@link #KEPT} before {@code now} dropped. */
  public SiteState withMaintenance(Maintenance window, Instant now) {
    List<Maintenance> kept = new ArrayList<>(maintenance.size() + 1);
    for (Maintenance m : maintenance) {
      if (!m.to().isBefore(now.minus(KEPT))) {
        kept.add(m);
      }
    }
    kept.add(window);
    return new SiteState(members, lastChangeAt, inServiceSince, unavailableSince, served, down, List.copyOf(kept), target, settled, pending);
  }

  public SiteState withTarget(double target) {
    return new SiteState(members, lastChangeAt, inServiceSince, unavailableSince, served, down, maintenance, target, settled, pending);
  }

  /** The declared window with this id, or null. */
  public Maintenance maintenanceWindow(String windowId) {
    return maintenance.stream().filter(m -> m.windowId().equals(windowId)).findFirst().orElse(null);
  }

  /** When the site's time in service spans, ended and (up to {@code now}) ongoing. */
  List<Span> inService(Instant now) {
    return SpanLog.spans(served, inServiceSince == null ? null : open(inServiceSince, now));
  }

  /** When the site was in service and not available, ended and (up to {@code now}) ongoing. */
  List<Span> unavailable(Instant now) {
    return SpanLog.spans(down, unavailableSince == null ? null : open(unavailableSince, now));
  }

  private static Span open(Instant since, Instant now) {
    return new Span(since, now.isAfter(since) ? now : since);
  }

  /**
   * Availability over the window ending at {@code now}: of the time in it the site was in service,
   * how much it was not available (maintenance windows included: this is what customers met). Null
   * when the site was not in service at all in the window.
   */
  public Measure availability(Duration window, Instant now) {
    List<Span> w = List.of(new Span(now.minus(window), now));
    List<Span> counted = Spans.intersect(inService(now), w);
    if (counted.isEmpty()) {
      return null;
    }
    return new Measure(Spans.length(counted), Spans.length(Spans.intersect(unavailable(now), counted)));
  }

  /** The SLA of a calendar month as of {@code now}, declared maintenance left out. */
  public Sla.Result sla(YearMonth month, Instant now, double defaultTarget) {
    List<Span> windows = maintenance.stream().map(Maintenance::span).toList();
    return Sla.of(month, now, inService(now), unavailable(now), windows, target == null ? defaultTarget : target);
  }

  /** When the current state began: in service or not, available or not. Null before any device was active. */
  public Instant stateSince() {
    if (unavailableSince != null) {
      return unavailableSince;
    }
    if (inServiceSince != null) {
      return down.length > 0 && down[down.length - 1] > inServiceSince.toEpochMilli()
          ? Instant.ofEpochMilli(down[down.length - 1])
          : inServiceSince;
    }
    return served.length > 0 ? Instant.ofEpochMilli(served[served.length - 1]) : null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SiteState s
        && members.equals(s.members)
        && Objects.equals(lastChangeAt, s.lastChangeAt)
        && Objects.equals(inServiceSince, s.inServiceSince)
        && Objects.equals(unavailableSince, s.unavailableSince)
        && Arrays.equals(served, s.served)
        && Arrays.equals(down, s.down)
        && maintenance.equals(s.maintenance)
        && Objects.equals(target, s.target)
        && Objects.equals(settled, s.settled)
        && pending.equals(s.pending);
  }

  @Override
  public int hashCode() {
    return members.hashCode() * 31 + Arrays.hashCode(down);
  }

  @Override
  public String toString() {
    return "SiteState[" + members.size() + " members, since " + stateSince() + ", " + served.length / 2 + " served, "
        + down.length / 2 + " down, " + pending.size() + " pending]";
  }
}
