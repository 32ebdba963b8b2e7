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
 * seconds apart and more when a slice retries. So a site keeps its latest changes, at least those
 * within its reorder window of the newest, as {@code pending}, on top of the state before them
 * ({@code settled}, devices and spans only): a change that arrives late is put in its place among
 * them and the pending ones are replayed, so it counts from its own time. Older changes are settled
 * in batches; one stamped before the settled state's last change takes effect at that change's time
 * (times there only move forward).
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
  public static final Duration KEPT = Duration.ofDays(400);
  /** Ended spans kept per kind at most (see {@link SpanLog}). */
  static final int MAX_SPANS = 2000;
  /** Pending changes kept at most, whatever the window: a replay costs this many steps. */
  static final int MAX_PENDING = 128;
  /** Changes older than the window are settled once there are this many (or the pending ones are too many). */
  static final int SETTLE_BATCH = 16;

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
    static final Counts NONE = new Counts(0, 0, 0, 0, 0);

    public boolean inService() {
      return active > 0;
    }

    public boolean available() {
      return free > 0;
    }

    /** These counts with member {@code m} added ({@code sign} 1) or taken out (-1); null changes nothing. */
    Counts with(Member m, int sign) {
      if (m == null) {
        return this;
      }
      return new Counts(devices + (m.present ? sign : 0), active + (m.active() ? sign : 0), working + (m.working() ? sign : 0),
          free + (m.free() ? sign : 0), inUse + (m.active() && m.inUse ? sign : 0));
    }
  }

  /** Whether any device ever joined: a site exists from its first device on. */
  public boolean exists() {
    return !members.isEmpty();
  }

  public Counts counts() {
    Counts c = Counts.NONE;
    for (Member m : members.values()) {
      c = c.with(m, 1);
    }
    return c;
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
   * than {@code reorderWindow} before the newest are settled, {@link #SETTLE_BATCH} or more at a
   * time (or all, when all are), and the oldest beyond {@link #MAX_PENDING}.
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
    int old = 0;
    while (old < p.size() && !p.get(old).at().isAfter(horizon)) {
      old++;
    }
    // settled a batch at a time (a replay copies the members and span logs once for all of it)
    int settle = p.size() > MAX_PENDING ? Math.max(old, p.size() - MAX_PENDING + SETTLE_BATCH)
        : old >= SETTLE_BATCH || old == p.size() ? old : 0;
    SiteState base = settled != null ? settled : this;
    if (settle > 0) {
      base = base.replayed(p.subList(0, settle));
    }
    List<DeviceChange> rest = List.copyOf(p.subList(settle, p.size()));
    // all settled; in order, the current state plus c; otherwise the pending ones again, c among them
    SiteState now = rest.isEmpty() ? base : at == p.size() - 1 ? replayed(List.of(c)) : base.replayed(rest);
    return new SiteState(now.members, now.lastChangeAt, now.inServiceSince, now.unavailableSince, now.served, now.down,
        maintenance, target, rest.isEmpty() ? null : base.bare(), rest);
  }

  /** The devices and spans alone: what a settled state keeps (maintenance and target are the site's, outside). */
  private SiteState bare() {
    return new SiteState(members, lastChangeAt, inServiceSince, unavailableSince, served, down, List.of(), null, null, List.of());
  }

  /**
   * The state after {@code changes} in order, with nothing pending: the members and span logs copied
   * once for all of them. A change older than the last takes effect at the last one's time.
   */
  private SiteState replayed(List<DeviceChange> changes) {
    Map<String, Member> next = new HashMap<>(members);
    Counts before = counts();
    Instant last = lastChangeAt;
    Instant served0 = inServiceSince;
    Instant down0 = unavailableSince;
    long[] servedEnded = new long[2 * changes.size()];
    long[] downEnded = new long[2 * changes.size()];
    int servedCount = 0;
    int downCount = 0;
    for (DeviceChange c : changes) {
      Member old = next.get(c.deviceId());
      Member changed = member(old, c);
      next.put(c.deviceId(), changed);
      Counts after = before.with(old, -1).with(changed, 1);
      Instant at = last == null || c.at().isAfter(last) ? c.at() : last;
      boolean wasDown = before.inService() && !before.available();
      boolean isDown = after.inService() && !after.available();
      if (wasDown && !isDown) {
        downEnded[downCount++] = down0.toEpochMilli();
        downEnded[downCount++] = at.toEpochMilli();
        down0 = null;
      } else if (!wasDown && isDown) {
        down0 = at;
      }
      if (before.inService() && !after.inService()) {
        servedEnded[servedCount++] = served0.toEpochMilli();
        servedEnded[servedCount++] = at.toEpochMilli();
        served0 = null;
      } else if (!before.inService() && after.inService()) {
        served0 = at;
      }
      before = after;
      last = at;
    }
    long keepAfter = last.minus(KEPT).toEpochMilli();
    return new SiteState(Map.copyOf(next), last, served0, down0,
        SpanLog.appended(served, Arrays.copyOf(servedEnded, servedCount), keepAfter, MAX_SPANS),
        SpanLog.appended(down, Arrays.copyOf(downEnded, downCount), keepAfter, MAX_SPANS), maintenance, target, null, List.of());
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
