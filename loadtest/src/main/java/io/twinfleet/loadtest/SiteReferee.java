package io.twinfleet.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.twinfleet.loadtest.Referee.Mismatch;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.protocol.v1.GetSiteRequest;
import io.twinfleet.protocol.v1.GetSiteSlaRequest;
import io.twinfleet.protocol.v1.Site;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import io.twinfleet.protocol.v1.SiteSla;
import com.google.protobuf.util.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Referees the sites after a run, on a frozen fleet: for a sample of the fleet's sites, what
 * {@code GetSite} says now (devices, active devices, commercially available) and what {@code
 * GetSiteSla} says of every month of the run (time in service, downtime), against the truth; then
 * the sampled sites' availability over the run, summed.
 *
 * <p>The service stamps a site's changes with its devices' events, which are late by up to a
 * reading's delivery or a timer's lateness (a site puts changes that reach it out of order in their
 * places, within its reorder window): every change of a site's state may be off by {@code
 * perChange}, so a month's figures may be off by that much per change, plus how long the question
 * took, plus how long its devices' decommissionings took (the truth keeps a device in service until
 * the acknowledgement). A site with a device near its off-line threshold is asked again once it has
 * passed.
 */
final class SiteReferee {

  /** What was checked, the sampled sites' availability over the run as the service and the truth count it, and what differed. */
  record Result(int sites, int months, double service, double truth, double tolerance, List<Mismatch> mismatches) {
    static Result none() {
      return new Result(0, 0, Double.NaN, Double.NaN, 0, List.of());
    }
  }

  /**
   * Slack per change of a site's state, in real time, for its devices' stamps that differ from the
   * truth's: timers that fire late, changes that reach the site later than its reorder window.
   */
  static final long SKEW_REAL_MILLIS = 5_000;
  private static final int MAX_ROUNDS = 6;

  private final Fleet fleet;
  private final ServiceTime time;
  private final SiteServiceGrpc.SiteServiceBlockingStub sites;
  private final long toleranceMillis;
  private final long perChangeMillis;

  /**
   * @param toleranceMillis simulated time around an off-line threshold within which a device is not judged yet
   * @param lagMillis simulated time the sites may trail their devices
   */
  SiteReferee(Fleet fleet, ServiceTime time, ManagedChannel channel, long toleranceMillis, long lagMillis) {
    this.fleet = fleet;
    this.time = time;
    this.sites = SiteServiceGrpc.newBlockingStub(channel);
    this.toleranceMillis = toleranceMillis + lagMillis;
    this.perChangeMillis = toleranceMillis + time.simulated(SKEW_REAL_MILLIS);
  }

  /** How far the sites may trail their devices: the projection's delays, at most (15 s of real time). */
  static long lag(ServiceTime time) {
    return time.simulated(15_000);
  }

  Result verify(int sample) throws InterruptedException {
    List<Integer> todo = sampleOfSites(sample);
    List<Mismatch> mismatches = new ArrayList<>();
    List<Integer> checked = new ArrayList<>();
    for (int round = 0; round < MAX_ROUNDS && !todo.isEmpty(); round++) {
      boolean last = round == MAX_ROUNDS - 1;
      List<Integer> deferred = new ArrayList<>();
      long wakeAt = 0;
      for (int s : todo) {
        long unsettled = unsettledUntil(s, time.nowMillis());
        if (unsettled > 0 && !last) {
          deferred.add(s);
          wakeAt = Math.max(wakeAt, unsettled);
          continue;
        }
        checkNow(s, mismatches);
        checked.add(s);
      }
      todo = deferred;
      if (!todo.isEmpty()) {
        long waitReal = (long) Math.ceil(Math.max(0, wakeAt - time.nowMillis()) / time.speed());
        TimeUnit.MILLISECONDS.sleep(Math.min(Math.max(waitReal, 50), 120_000));
      }
    }
    long[] sums = new long[3]; // service down, true down, allowed
    long[] served = new long[2]; // service, truth
    int months = 0;
    for (int s : checked) {
      months += checkMonths(s, mismatches, sums, served);
    }
    double service = served[0] == 0 ? Double.NaN : 1 - (double) sums[0] / served[0];
    double truth = served[1] == 0 ? Double.NaN : 1 - (double) sums[1] / served[1];
    double tolerance = served[1] == 0 ? 0 : (double) sums[2] / served[1];
    if (!Double.isNaN(truth) && !(Math.abs(service - truth) <= tolerance)) {
      mismatches.add(new Mismatch("sites", "availability over the run", percent(truth) + " ± " + percent(tolerance), percent(service)));
    }
    return new Result(checked.size(), months, service, truth, tolerance, mismatches);
  }

  /** Up to {@code sample} sites with a claimed device, evenly spread. */
  private List<Integer> sampleOfSites(int sample) {
    List<Integer> claimed = new ArrayList<>();
    for (int s = 0; s < fleet.siteCount(); s++) {
      for (int i = fleet.firstDeviceOf(s); i < fleet.endOfSite(s); i++) {
        if (fleet.claimedAt(i) != 0) {
          claimed.add(s);
          break;
        }
      }
    }
    int step = Math.max(1, claimed.size() / Math.max(1, sample));
    List<Integer> out = new ArrayList<>();
    for (int k = 0; k < claimed.size() && out.size() < sample; k += step) {
      out.add(claimed.get(k));
    }
    return out;
  }

  /** Zero when site {@code s}'s state is settled at {@code t}; otherwise when it will be. */
  private long unsettledUntil(int s, long t) {
    long until = 0;
    for (int i = fleet.firstDeviceOf(s); i < fleet.endOfSite(s); i++) {
      until = Math.max(until, Referee.thresholdUnsettled(fleet, i, t, toleranceMillis));
    }
    return until;
  }

  private void checkNow(int s, List<Mismatch> out) {
    String id = fleet.siteIdOf(s);
    Site site;
    long t;
    try {
      site = sites.withDeadlineAfter(30, TimeUnit.SECONDS).getSite(GetSiteRequest.newBuilder().setSiteId(id).build());
      t = time.nowMillis();
    } catch (StatusRuntimeException e) {
      out.add(new Mismatch(id, "GetSite", "the site", e.getStatus().getCode() + " " + e.getStatus().getDescription()));
      return;
    }
    int devices = 0;
    int active = 0;
    for (int i = fleet.firstDeviceOf(s); i < fleet.endOfSite(s); i++) {
      byte state = fleet.state(i);
      if (fleet.claimedAt(i) != 0 && state != Fleet.DECOMMISSIONED) {
        devices++;
        active += fleet.activatedAt(i) != 0 ? 1 : 0;
      }
    }
    check(out, id, "devices", devices, site.getDevices());
    check(out, id, "active_devices", active, site.getActiveDevices());
    check(out, id, "available", active > 0 && fleet.siteAvailable(s, t), site.getAvailable());
  }

  /** Compares every month of the run; returns how many. Adds down, true down and allowed to {@code sums}, served to {@code served}. */
  private int checkMonths(int s, List<Mismatch> out, long[] sums, long[] served) {
    String id = fleet.siteIdOf(s);
    long firstClaim = Long.MAX_VALUE;
    for (int i = fleet.firstDeviceOf(s); i < fleet.endOfSite(s); i++) {
      if (fleet.claimedAt(i) != 0) {
        firstClaim = Math.min(firstClaim, fleet.claimedAt(i));
      }
    }
    YearMonth now = month(time.nowMillis());
    int months = 0;
    for (YearMonth m = month(firstClaim); !m.isAfter(now); m = m.plusMonths(1)) {
      long asked = time.nowMillis();
      SiteSla sla;
      try {
        sla = sites.withDeadlineAfter(30, TimeUnit.SECONDS).getSiteSla(GetSiteSlaRequest.newBuilder().setSiteId(id).setMonth(m.toString()).build());
      } catch (StatusRuntimeException e) {
        out.add(new Mismatch(id, "GetSiteSla " + m, "the month's SLA", e.getStatus().getCode() + " " + e.getStatus().getDescription()));
        continue;
      }
      long t = time.nowMillis();
      Fleet.SiteMonth truth = fleet.siteMonth(s, m, t);
      long allowed = (truth.changes() + 1) * perChangeMillis + (t - asked) + decommissionLatencies(s, m);
      long counted = Durations.toMillis(sla.getCounted());
      long down = Durations.toMillis(sla.getDowntime());
      if (Math.abs(counted - truth.servedMillis()) > allowed) {
        out.add(new Mismatch(id, "sla " + m + " counted", Duration.ofMillis(truth.servedMillis()) + " ± " + Duration.ofMillis(allowed)
            + " (" + truth.changes() + " changes; " + devicesOf(s) + ")", Duration.ofMillis(counted).toString()));
      }
      if (Math.abs(down - truth.downMillis()) > allowed) {
        out.add(new Mismatch(id, "sla " + m + " downtime", Duration.ofMillis(truth.downMillis()) + " ± " + Duration.ofMillis(allowed)
            + " (" + truth.changes() + " changes; " + devicesOf(s) + ")", Duration.ofMillis(down).toString()));
      }
      sums[0] += down;
      sums[1] += truth.downMillis();
      sums[2] += allowed;
      served[0] += counted;
      served[1] += truth.servedMillis();
      months++;
    }
    return months;
  }

  /**
   * How long the decommissionings of site {@code s}'s devices acknowledged in {@code month} took:
   * the service retired each device somewhere between the request and the acknowledgement, while
   * the truth keeps it in service until the acknowledgement.
   */
  private long decommissionLatencies(int s, YearMonth month) {
    long sum = 0;
    for (int i = fleet.firstDeviceOf(s); i < fleet.endOfSite(s); i++) {
      if (fleet.decommissionedAt(i) != 0 && month(fleet.decommissionedAt(i)).equals(month)) {
        sum += fleet.decommissionLatency(i);
      }
    }
    return sum;
  }

  /** Site {@code s}'s devices' claims, activations and decommissionings, to tell what a mismatch is about. */
  private String devicesOf(int s) {
    StringBuilder out = new StringBuilder();
    for (int i = fleet.firstDeviceOf(s); i < fleet.endOfSite(s); i++) {
      out.append(out.isEmpty() ? "" : ", ").append(fleet.deviceId(i)).append(" claimed ").append(at(fleet.claimedAt(i)))
          .append(" activated ").append(at(fleet.activatedAt(i)));
      if (fleet.decommissionedAt(i) != 0) {
        out.append(" decommissioned ").append(at(fleet.decommissionedAt(i)))
            .append(" (asked ").append(Duration.ofMillis(fleet.decommissionLatency(i))).append(" before)");
      }
    }
    return out.toString();
  }

  private static String at(long millis) {
    return millis == 0 ? "-" : Instant.ofEpochMilli(millis).toString();
  }

  private static YearMonth month(long millis) {
    return YearMonth.from(Instant.ofEpochMilli(millis).atZone(ZoneOffset.UTC));
  }

  private static void check(List<Mismatch> out, String id, String field, Object expected, Object actual) {
    if (!expected.equals(actual)) {
      out.add(new Mismatch(id, field, String.valueOf(expected), String.valueOf(actual)));
    }
  }

  private static String percent(double share) {
    return String.format(Locale.ROOT, "%.4f%%", 100 * share);
  }
}
