package io.twinfleet.loadtest;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.grpc.ManagedChannel;
import io.twinfleet.loadtest.baseline.CassandraInsertBaseline;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.FleetProfile;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The load test and referee: provisions a simulated fleet on a running service, lets it live for
 * a while on the service's clock, then freezes it and checks every device's twin against the
 * truth; measures ingest and latency on the way, and the two baselines (a no-op entity behind the
 * same ReportStream path, raw inserts into Cassandra) in the same run. Writes a human summary and
 * a JSON result, and exits 1 when the referee found a mismatch.
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Drives a running service with a simulated fleet, then referees what it shows.")
public final class LoadTest implements Callable<Integer> {

  private static final int MAX_DEVICES = 5_000_000;
  private static final Duration MAX_DURATION = Duration.ofHours(24);

  @Mixin
  Credentials credentials = new Credentials();

  @Option(names = "--target", defaultValue = "127.0.0.1:8080", description = "host:port of the service's gRPC API, on loopback (default: ${DEFAULT-VALUE}).")
  String target;

  @Option(names = "--devices", defaultValue = "10000", description = "Simulated devices, at most 5,000,000 (default: ${DEFAULT-VALUE}).")
  int devices;

  @Option(names = "--sites", description = "Sites (homes and car parks); default one per five devices.")
  Integer sites;

  @Option(names = "--duration", defaultValue = "60s", description = "How long the fleet lives after provisioning, e.g. 90s, 10m, 1h; at most 24h (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--speed", description = "The service's clock speed; the run stops if the service runs at another (default: whatever the service runs at).")
  Double speed;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the fleet's layout and behaviour (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--activation-delay", defaultValue = "8h", description = "Mean simulated time from claim to first report; shorter gets a big fleet reporting sooner (default: ${DEFAULT-VALUE}).")
  String activationDelay;

  @Option(names = "--heartbeat-divisor", defaultValue = "1", description = "Divide every model's heartbeat interval (5 to 60 min) by this, down to the service's minimum of 10 s: more readings per device without speeding up the clock, and so without speeding up everything else (default: ${DEFAULT-VALUE}).")
  int heartbeatDivisor;

  @Option(names = "--heartbeat-multiplier", defaultValue = "1", description = "Multiply every model's heartbeat interval by this, up to the service's maximum of 24 h: for long runs on a fast clock, where a heartbeat of minutes is milliseconds of real time (default: ${DEFAULT-VALUE}).")
  int heartbeatMultiplier;

  @Option(names = "--prefix", description = "Prefix of device, site and customer ids (default: lt-<time>-, fresh for every run).")
  String prefix;

  @Option(names = "--streams", defaultValue = "4", description = "ReportStreams, each on its own connection (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(names = "--batch", defaultValue = "500", description = "Readings per batch, 1 to 1000 (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--in-flight", defaultValue = "8", description = "Unacknowledged batches per stream (default: ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--provision-concurrency", defaultValue = "256", description = "Register/claim calls in flight while provisioning (default: ${DEFAULT-VALUE}).")
  int provisionConcurrency;

  @Option(names = "--get-rate", defaultValue = "100", description = "GetDevice calls per second during the run, measured (default: ${DEFAULT-VALUE}).")
  int getRate;

  @Option(names = "--verify", defaultValue = "all", description = "Devices the referee checks: all, none, or a number for an evenly spread sample (default: ${DEFAULT-VALUE}).")
  String verify;

  @Option(names = "--offline-after-heartbeats", defaultValue = "2", description = "The service's twinfleet.device.offline-after-heartbeats (default: ${DEFAULT-VALUE}).")
  int offlineAfterHeartbeats;

  @Option(names = "--server-pid", description = "The service's process id on this machine, to measure its heap per twin with jcmd.")
  Long serverPid;

  @Option(names = "--baselines", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "After the referee, measure the ingest ceiling into the twins and into a no-op entity, and raw Cassandra inserts (default: on).")
  boolean baselines;

  @Option(names = "--baseline-duration", defaultValue = "20s", description = "Length of each baseline measurement, after a warm-up of a quarter of it (default: ${DEFAULT-VALUE}).")
  String baselineDuration;

  @Option(names = "--cassandra", defaultValue = "127.0.0.1:9042", description = "Cassandra for the raw-insert baseline (default: ${DEFAULT-VALUE}).")
  String cassandra;

  @Option(names = "--datacenter", defaultValue = "datacenter1", description = "Cassandra's local datacenter (default: ${DEFAULT-VALUE}).")
  String datacenter;

  @Option(names = "--json", defaultValue = "loadtest-result.json", description = "Where to write the JSON result (default: ${DEFAULT-VALUE}).")
  Path json;

  /**
   * Something done to the service while the fleet lives (see {@link Failover}): it happens {@link
   * #after} that long into the run, and after the referee its outcome goes into the result and its
   * findings into the verdict.
   */
  interface Incident {
    Duration after();

    void happen(Simulation sim, RunStats stats) throws Exception;

    Map<String, Object> outcome(Simulation sim, RunStats stats, ManagedChannel channel) throws Exception;

    List<Referee.Mismatch> mismatches();
  }

  /** Set by a scenario that runs this load test with an incident; null for a plain load test. */
  Incident incident;

  /** The fleet of the run once it is planned, for scenarios that look at it afterwards. */
  Fleet plannedFleet;

  private final PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    Duration run = Durations.parse("--duration", duration);
    Duration baselineLength = Durations.parse("--baseline-duration", baselineDuration);
    validate(run);
    int siteCount = sites != null ? sites : Math.max(1, devices / 5);
    String ids = prefix != null ? prefix : "lt-" + Long.toString(Instant.now().getEpochSecond() % 46_656L * 36 + (System.nanoTime() >>> 20) % 36, 36) + "-";
    Map<String, Object> result = new LinkedHashMap<>();
    List<ManagedChannel> channels = Channels.open(target, streams, credentials.token());
    try {
      ServiceTime time = ServiceTime.sync(channels.get(0));
      if (speed != null && Math.abs(speed - time.speed()) > 1e-9) {
        out.printf("The service's clock runs at speed %s, not %s: start it with TWINFLEET_CLOCK_SPEED=%s or pass --speed %s.%n",
            fmt(time.speed()), fmt(speed), fmt(speed), fmt(time.speed()));
        return 2;
      }
      FleetProfile profile = FleetProfile.defaults().withActivationDelay(Durations.parse("--activation-delay", activationDelay));
      Fleet fleet = Fleet.plan(seed, devices, siteCount, ids, profile, offlineAfterHeartbeats).withHeartbeatDivisor(heartbeatDivisor)
          .withHeartbeatMultiplier(heartbeatMultiplier);
      plannedFleet = fleet;
      out.printf("Fleet: %,d devices at %,d sites, seed %d, ids %s*, service clock speed %s, %d streams of batches of %d.%n",
          devices, siteCount, seed, ids, fmt(time.speed()), streams, batch);
      result.put("config", ordered("devices", devices, "sites", siteCount, "seed", seed, "speed", time.speed(),
          "duration_seconds", run.toSeconds(), "activation_delay", activationDelay, "heartbeat_divisor", heartbeatDivisor, "heartbeat_multiplier", heartbeatMultiplier, "streams", streams, "batch", batch,
          "in_flight", inFlight, "get_rate", getRate, "prefix", ids, "target", target));

      Long heapBefore = serverPid == null ? null : ServerHeap.usedAfterFullGc(serverPid);
      RunStats stats = new RunStats(fleet);
      Referee.Verdict verdict;
      JourneyReferee.Result journeyResult;
      SiteReferee.Result siteResult;
      try (Simulation sim = new Simulation(fleet, time, channels, batch, inFlight, stats)) {
        sim.start();
        sim.sampleGets(getRate);
        Progress.Bar provisioned = new Progress.Bar();
        Duration provisioning;
        try (Progress p = Progress.bar(out, "Provisioning", devices, provisioned)) {
          provisioning = sim.provision(provisionConcurrency, provisioned);
        }
        long persisted = stats.registered.sum() + stats.claimed.sum();
        double provisionSeconds = provisioning.toMillis() / 1e3;
        out.printf("Provisioned %,d devices in %.1f s: %,d registered, %,d claimed, %,.0f persisted commands/s.%n",
            devices, provisionSeconds, stats.registered.sum(), stats.claimed.sum(), persisted / provisionSeconds);
        result.put("provisioning", ordered("seconds", provisionSeconds, "registered", stats.registered.sum(),
            "claimed", stats.claimed.sum(), "retries", stats.retries.sum(), "persisted_commands_per_second", persisted / provisionSeconds));

        Map<String, Object> steady;
        try (SiteProbe probe = new SiteProbe(channels.get(0), time, ids)) {
          probe.start(SITE_PROBE_PERIOD_MILLIS);
          steady = live(sim, stats, run);
          Histogram toSite = probe.interval();
          steady.put("device_to_site_ms", percentiles(toSite));
          out.printf(Locale.ROOT, "Device to site: %,d changes of a probe device reached its site (WatchSite) in p50 %.0f ms, p99 %.0f ms, max %.0f ms.%n",
              toSite.getTotalCount(), RunStats.millis(toSite, 50), RunStats.millis(toSite, 99), toSite.getMaxValue() / 1e3);
        }
        result.put("run", steady);

        if (serverPid != null) {
          long heapAfter = ServerHeap.usedAfterFullGc(serverPid);
          long perTwin = (heapAfter - heapBefore) / Math.max(1, stats.registered.sum());
          out.printf("Server heap per twin: %,d bytes (%,d twins; full GC before provisioning and now).%n", perTwin, stats.registered.sum());
          result.put("heap_bytes_per_twin", perTwin);
        }

        out.println("Freezing the fleet: no more changes, devices on line keep reporting; waiting for acks and decommissions...");
        sim.freeze(Duration.ofMinutes(2));
        verdict = referee(sim, time, channels.get(0), stats);
        JourneyReferee.Result journeys = journeyReferee(fleet, time, channels.get(0), stats);
        result.put("journeys", ordered("models", journeys.models(), "devices_counted", journeys.devicesCounted(),
            "devices_listed", journeys.devicesListed(), "journeys_checked", journeys.journeysChecked(), "mismatches", journeys.mismatches().size()));
        verdict = verdict.with(journeys.mismatches());
        journeyResult = journeys;
        SiteReferee.Result sites = siteReferee(fleet, time, channels.get(0), stats);
        result.put("sites", ordered("sites_checked", sites.sites(), "months_checked", sites.months(), "service_availability", sites.service(),
            "true_availability", sites.truth(), "tolerance", sites.tolerance(), "mismatches", sites.mismatches().size()));
        verdict = verdict.with(sites.mismatches());
        siteResult = sites;
        QualityReferee.Result quality = verify.equals("none") || Double.isNaN(verdict.uptime().truth()) ? QualityReferee.Result.none()
            : QualityReferee.verify(fleet, time, channels.get(0), verdict.uptime().tolerance(), Duration.ofSeconds(60));
        result.put("quality", ordered("service_uptime", quality.service(), "true_uptime", quality.truth(), "tolerance", quality.tolerance(),
            "service_top_firmware", quality.serviceTopFirmware(), "true_top_firmware", quality.trueTopFirmware(),
            "mismatches", quality.mismatches().size()));
        verdict = verdict.with(quality.mismatches());
        out.printf(Locale.ROOT, "Fleet quality (GetQualityBreakdown over the run): uptime %.3f%%, truth %.3f%% (may differ by %.3f%%); most downtime on firmware %s (truth: %s)%n",
            100 * quality.service(), 100 * quality.truth(), 100 * quality.tolerance(), quality.serviceTopFirmware(),
            quality.trueTopFirmware().isEmpty() ? "no clear top" : quality.trueTopFirmware());
        AlertReferee.Result alerts = verify.equals("none") ? AlertReferee.Result.none()
            : AlertReferee.verify(fleet, channels.get(0), Duration.ofSeconds(60));
        result.put("alerts", ordered("battery_low_episodes", alerts.lowEpisodes(), "battery_low_alerts", alerts.lowAlerts(),
            "batteries_ran_out", alerts.ranOut(), "forecast_in_time", alerts.forecastInTime(), "mismatches", alerts.mismatches().size()));
        verdict = verdict.with(alerts.mismatches());
        out.printf(Locale.ROOT, "Battery alerts: %d BATTERY_LOW for %d episodes below 20%%; %d of %d batteries that ran out forecast in time%n",
            alerts.lowAlerts(), alerts.lowEpisodes(), alerts.forecastInTime(), alerts.ranOut());
        if (incident != null) {
          result.put("incident", incident.outcome(sim, stats, channels.get(0)));
          verdict = verdict.with(incident.mismatches());
        }
        result.put("referee", verdictJson(verdict));
        result.put("truth", ordered("fleet_uptime", fleet.fleetUptime(time.nowMillis()), "readings_sent", fleet.readings()));
        result.put("errors", stats.errors());
        result.put("error_examples", stats.firstMessages());
        if (sim.failure() != null) {
          throw new IllegalStateException("the simulation stopped: " + sim.failure(), sim.failure());
        }
        // While the frozen fleet keeps reporting, so no twin goes off line under the baselines.
        if (baselines) {
          result.put("baselines", baselines(fleet, time, channels, baselineLength, result));
        }
      }
      summary(result, verdict, journeyResult, siteResult);
      ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
      Files.writeString(json, mapper.writeValueAsString(result));
      out.println("JSON result: " + json.toAbsolutePath());
      return verdict.passed() ? 0 : 1;
    } finally {
      Channels.close(channels);
    }
  }

  private void validate(Duration run) {
    if (devices < 1 || devices > MAX_DEVICES) {
      throw new IllegalArgumentException("--devices must be 1 to " + MAX_DEVICES + ", was " + devices);
    }
    if (sites != null && (sites < 1 || sites > devices)) {
      throw new IllegalArgumentException("--sites must be 1 to --devices, was " + sites);
    }
    if (run.isNegative() || run.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException("--duration must be 0 to 24h, was " + duration);
    }
    if (streams < 1 || streams > 64 || batch < 1 || batch > 1000 || inFlight < 1 || inFlight > 1000 || provisionConcurrency < 1 || getRate < 0) {
      throw new IllegalArgumentException("--streams 1..64, --batch 1..1000, --in-flight 1..1000, --provision-concurrency >= 1, --get-rate >= 0");
    }
    if (speed != null && !(speed >= 1)) {
      throw new IllegalArgumentException("--speed must be at least 1, was " + speed);
    }
    Channels.requireLoopback("--target", target);
    Channels.requireLoopback("--cassandra", cassandra);
  }

  /** The fleet lives for {@code length}: a status line every second, the steady figures at the end. */
  private Map<String, Object> live(Simulation sim, RunStats stats, Duration length) throws InterruptedException {
    stats.ackLatency.reset();
    stats.getLatency.reset();
    long accepted0 = stats.readingsAccepted.sum();
    long start = System.nanoTime();
    long[] last = {accepted0, start};
    try (Progress p = Progress.line(out, () -> {
      long now = System.nanoTime();
      long acc = stats.readingsAccepted.sum();
      double rate = (acc - last[0]) / Math.max((now - last[1]) / 1e9, 1e-3);
      last[0] = acc;
      last[1] = now;
      return String.format(Locale.ROOT, "Running %.0f/%d s: %s simulated, %,.0f readings/s acknowledged, %,d in total, lag %s, %,d errors",
          (now - start) / 1e9, length.toSeconds(), Durations.human(sim.time().simulated((now - start) / 1_000_000)), rate, acc - accepted0,
          Durations.human(sim.lagMillis()), stats.errorCount());
    })) {
      if (incident == null || incident.after().compareTo(length) >= 0) {
        Thread.sleep(length.toMillis());
      } else {
        Thread.sleep(incident.after().toMillis());
        try {
          incident.happen(sim, stats);
        } catch (Exception e) {
          throw new IllegalStateException("the incident failed: " + e.getMessage(), e);
        }
        Thread.sleep(Math.max(0, length.toMillis() - (System.nanoTime() - start) / 1_000_000));
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long accepted = stats.readingsAccepted.sum() - accepted0;
    Histogram acks = stats.ackLatency.getIntervalHistogram();
    Histogram gets = stats.getLatency.getIntervalHistogram();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("seconds", seconds);
    m.put("readings_acknowledged", accepted);
    m.put("readings_per_second", accepted / seconds);
    m.put("ack_latency_ms", percentiles(acks));
    m.put("get_device_per_second", gets.getTotalCount() / seconds);
    m.put("get_device_latency_ms", percentiles(gets));
    m.put("decommissioned", stats.decommissioned.sum());
    m.put("readings_resent", stats.readingsResent.sum());
    m.put("lag_at_end_ms", sim.lagMillis());
    out.printf(Locale.ROOT, "Ran %.0f s: %,d readings acknowledged, %,.0f/s; ack p50 %.1f ms, p99 %.1f ms; GetDevice %,.0f/s p50 %.2f ms, p99 %.2f ms.%n",
        seconds, accepted, accepted / seconds, RunStats.millis(acks, 50), RunStats.millis(acks, 99),
        gets.getTotalCount() / seconds, RunStats.millis(gets, 50), RunStats.millis(gets, 99));
    return m;
  }

  private Referee.Verdict referee(Simulation sim, ServiceTime time, ManagedChannel channel, RunStats stats) throws InterruptedException {
    Fleet fleet = sim.fleet();
    int every;
    if (verify.equals("none")) {
      every = 0;
    } else if (verify.equals("all")) {
      every = 1;
    } else {
      int sample = Integer.parseInt(verify);
      every = sample <= 0 ? 0 : Math.max(1, fleet.size() / sample);
    }
    if (every == 0) {
      return Referee.Verdict.none();
    }
    Referee referee = Referee.of(fleet, time, DeviceServiceGrpc.newFutureStub(channel), stats);
    Progress.Bar checked = new Progress.Bar();
    int step = every;
    Referee.Verdict v;
    try (Progress p = Progress.bar(out, "Refereeing", (fleet.size() + step - 1) / step, checked)) {
      v = referee.verify(i -> i % step == 0, 128, checked);
    }
    return v;
  }

  /** The journey read models of this run's devices: funnel and lists per model, and a sample of journeys. */
  private JourneyReferee.Result journeyReferee(Fleet fleet, ServiceTime time, ManagedChannel channel, RunStats stats) throws InterruptedException {
    if (verify.equals("none")) {
      return JourneyReferee.Result.none();
    }
    out.println("Refereeing the journey read models: funnel and stage lists per model, a sample of journeys...");
    JourneyReferee referee = new JourneyReferee(fleet, time, channel, Referee.tolerance(time, stats), JourneyReferee.lag(time));
    return referee.verify(JOURNEY_SAMPLE, Duration.ofSeconds(90));
  }

  /** Sites now and their SLA per month, for a sample of the fleet's sites. */
  private SiteReferee.Result siteReferee(Fleet fleet, ServiceTime time, ManagedChannel channel, RunStats stats) throws InterruptedException {
    if (verify.equals("none")) {
      return SiteReferee.Result.none();
    }
    out.println("Refereeing the sites: devices and availability now, and the SLA of every month of the run...");
    return new SiteReferee(fleet, time, channel, Referee.tolerance(time, stats), SiteReferee.lag(time)).verify(SITE_SAMPLE);
  }

  /** Sites the referee reads, spread over the fleet. */
  private static final int SITE_SAMPLE = 2_000;

  /** How often (real time) the site probe's device starts or ends a session. */
  private static final long SITE_PROBE_PERIOD_MILLIS = 2_000;

  /** Journeys the referee reads one by one, spread over the fleet. */
  private static final int JOURNEY_SAMPLE = 200;

  private Map<String, Object> verdictJson(Referee.Verdict v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("checked", v.checked());
    m.put("deferred", v.deferred());
    m.put("mismatches", v.mismatches().size());
    m.put("online_service", v.serviceOnline());
    m.put("online_truth", v.trueOnline());
    m.put("active", v.active());
    boolean measured = !Double.isNaN(v.uptime().truth());
    m.put("fleet_uptime_service", measured ? v.uptime().service() : null);
    m.put("fleet_uptime_truth", measured ? v.uptime().truth() : null);
    m.put("fleet_uptime_tolerance", measured ? v.uptime().tolerance() : null);
    m.put("passed", v.passed());
    m.put("mismatch_list", v.mismatches().stream().limit(1000).map(Referee.Mismatch::toString).toList());
    return m;
  }

  private Map<String, Object> baselines(Fleet fleet, ServiceTime time, List<ManagedChannel> channels, Duration length,
      Map<String, Object> result) throws Exception {
    List<String> active = new ArrayList<>();
    for (int i = 0; i < fleet.size(); i++) {
      byte s = fleet.state(i);
      if (s == Fleet.ONLINE || s == Fleet.OFFLINE) {
        active.add(fleet.deviceId(i));
      }
    }
    String[] ids = active.toArray(new String[0]);
    Map<String, Object> m = new LinkedHashMap<>();
    if (ids.length == 0) {
      out.println("Baselines skipped: no active device to stream to.");
      return m;
    }
    Duration warmup = length.dividedBy(4);
    out.printf("Ingest ceiling: heartbeats as fast as acknowledged to %,d twins, %s warm-up, %s measured...%n", ids.length, warmup.toSeconds() + " s", length.toSeconds() + " s");
    Flood.Result twins = Flood.run(channels, ids, time, warmup, length, batch, inFlight, null);
    out.printf("Baseline: the same readings to a sharded entity that does nothing...%n");
    Flood.Result noop = Flood.run(channels, ids, time, warmup, length, batch, inFlight, Flood.BASELINE_SINK);
    m.put("twins_ingest", twins);
    m.put("noop_entity_ingest", noop);
    m.put("ingest_ratio", twins.perSecond() / noop.perSecond());

    out.printf("Baseline: raw asynchronous inserts into a journal-shaped table at %s...%n", cassandra);
    // The contact point replaces any from a driver configuration on the classpath, rather than adding to it.
    DriverConfigLoader driver = DriverConfigLoader.programmaticBuilder()
        .withStringList(DefaultDriverOption.CONTACT_POINTS, List.of(cassandra))
        .withString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER, datacenter)
        .build();
    try (CqlSession session = CqlSession.builder().withConfigLoader(driver).build()) {
      CassandraInsertBaseline.run(session, warmup, 256, n -> {});
      Progress.Bar inserted = new Progress.Bar();
      CassandraInsertBaseline.Result raw;
      long[] seen = {0};
      try (Progress p = Progress.line(out, () -> String.format(Locale.ROOT, "Raw inserts: %,d", seen[0]))) {
        raw = CassandraInsertBaseline.run(session, length, 256, n -> seen[0] = n);
      } finally {
        CassandraInsertBaseline.dropKeyspace(session);
      }
      m.put("raw_inserts", raw);
      @SuppressWarnings("unchecked")
      Map<String, Object> provisioning = (Map<String, Object>) result.get("provisioning");
      double persisted = (double) provisioning.get("persisted_commands_per_second");
      m.put("persisted_ratio", persisted / raw.insertsPerSecond());
    }
    return m;
  }

  @SuppressWarnings("unchecked")
  private void summary(Map<String, Object> result, Referee.Verdict v, JourneyReferee.Result journeys, SiteReferee.Result sites) {
    out.println();
    out.println("== Summary ==");
    Map<String, Object> prov = (Map<String, Object>) result.get("provisioning");
    Map<String, Object> run = (Map<String, Object>) result.get("run");
    Map<String, Object> acks = (Map<String, Object>) run.get("ack_latency_ms");
    Map<String, Object> gets = (Map<String, Object>) run.get("get_device_latency_ms");
    out.printf(Locale.ROOT, "Provisioning        %.1f s, %,.0f persisted commands/s%n", prov.get("seconds"), prov.get("persisted_commands_per_second"));
    out.printf(Locale.ROOT, "Steady ingest       %,.0f readings/s acknowledged; ack p50 %.1f ms, p99 %.1f ms%n",
        run.get("readings_per_second"), acks.get("p50"), acks.get("p99"));
    out.printf(Locale.ROOT, "GetDevice           %,.0f/s during ingest; p50 %.2f ms, p99 %.2f ms%n", run.get("get_device_per_second"), gets.get("p50"), gets.get("p99"));
    if (result.containsKey("heap_bytes_per_twin")) {
      out.printf(Locale.ROOT, "Heap per twin       %,d bytes%n", result.get("heap_bytes_per_twin"));
    }
    Map<String, Object> b = (Map<String, Object>) result.get("baselines");
    if (b != null && b.containsKey("ingest_ratio")) {
      Flood.Result twins = (Flood.Result) b.get("twins_ingest");
      Flood.Result noop = (Flood.Result) b.get("noop_entity_ingest");
      out.printf(Locale.ROOT, "Ingest ceiling      %,.0f readings/s into twins, %,.0f into a no-op entity: %.0f%%%n", twins.perSecond(), noop.perSecond(), 100 * (double) b.get("ingest_ratio"));
      if (b.containsKey("raw_inserts")) {
        CassandraInsertBaseline.Result raw = (CassandraInsertBaseline.Result) b.get("raw_inserts");
        out.printf(Locale.ROOT, "Persisted commands  %,.0f/s against %,.0f raw inserts/s: %.0f%%%n",
            prov.get("persisted_commands_per_second"), raw.insertsPerSecond(), 100 * (double) b.get("persisted_ratio"));
      }
    }
    Map<String, Object> truth = (Map<String, Object>) result.get("truth");
    out.printf(Locale.ROOT, "Fleet uptime        %.3f%% since activation (truth, whole fleet)%n", 100 * (double) truth.get("fleet_uptime"));
    if (!Double.isNaN(v.uptime().truth())) {
      out.printf(Locale.ROOT, "  devices checked   service %.3f%%, truth %.3f%% (may differ by %.3f%%)%n",
          100 * v.uptime().service(), 100 * v.uptime().truth(), 100 * v.uptime().tolerance());
    }
    out.printf(Locale.ROOT, "On line now         service %,d, truth %,d of %,d active devices checked%n", v.serviceOnline(), v.trueOnline(), v.active());
    Map<String, Long> errors = (Map<String, Long>) result.get("errors");
    out.println("Errors by status    " + (errors.isEmpty() ? "none" : errors));
    ((Map<String, String>) result.get("error_examples")).forEach((k, msg) -> out.println("  e.g. " + k + ": " + msg));
    if (journeys.models() > 0) {
      out.printf("Journeys            funnel of %,d devices in %d models, %,d listed by stage, %,d journeys read%n",
          journeys.devicesCounted(), journeys.models(), journeys.devicesListed(), journeys.journeysChecked());
    }
    if (sites.sites() > 0) {
      out.printf(Locale.ROOT, "Sites               %,d checked now and over %,d site-months; availability over the run: service %.3f%%, truth %.3f%% (may differ by %.3f%%)%n",
          sites.sites(), sites.months(), 100 * sites.service(), 100 * sites.truth(), 100 * sites.tolerance());
    }
    if (v.checked() == 0) {
      out.println("Referee             not run (--verify none)");
    } else if (v.passed()) {
      out.printf("Referee             PASSED: %,d devices checked (%,d re-asked after a threshold passed), no mismatch%n", v.checked(), v.deferred());
    } else {
      out.printf("Referee             FAILED: %,d mismatches in %,d devices checked; the first ones:%n", v.mismatches().size(), v.checked());
      v.mismatches().stream().limit(20).forEach(m -> out.println("  " + m));
    }
  }

  private static Map<String, Object> percentiles(Histogram h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("p50", RunStats.millis(h, 50));
    m.put("p90", RunStats.millis(h, 90));
    m.put("p99", RunStats.millis(h, 99));
    m.put("max", h.getMaxValue() / 1e3);
    m.put("count", h.getTotalCount());
    return m;
  }

  /** A JSON object with its keys in the order given. */
  static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int k = 0; k < keysAndValues.length; k += 2) {
      m.put((String) keysAndValues[k], keysAndValues[k + 1]);
    }
    return m;
  }

  /** A number as typed: 60, not 60.0. */
  static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }
}
