package io.twinfleet.loadtest.sim;

import io.twinfleet.protocol.v1.Stage;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A simulated fleet and its ground truth, in compact arrays indexed by device number: no object,
 * thread or actor per device, so a million devices fit in about 150 MB.
 *
 * <p>Devices sit at sites (homes with one to four devices, car parks of chargers), each site owned
 * by one customer. A claimed device first reports after a delay (some never do), then reports on
 * its heartbeat, drops off line now and then (far more often on the defective firmware), drains and
 * recharges its battery, raises and clears faults, charges cars, installs firmware and is finally
 * decommissioned. {@link #step} advances one device at the time it asked to be woken and records
 * what really happened; {@link #expected} says what the service should show for it.
 *
 * <p>Deterministic for a seed: the fleet's layout and every device's behaviour, relative to the
 * moment it was claimed, come from per-device random streams, whatever order devices are stepped
 * in. Not thread-safe: one thread steps the fleet; others may read it for summaries.
 */
public final class Fleet {

  /** What a device is doing. */
  public static final byte UNCLAIMED = 0, CLAIMING = 1, AWAITING_FIRST_REPORT = 2, ONLINE = 3, OFFLINE = 4,
      RETIRING = 5, DECOMMISSIONED = 6;

  /** What a step asks of the driver. */
  public enum Step { NOTHING, REPORT, RETIRE }

  /** A due time meaning never. */
  public static final long NEVER = Long.MAX_VALUE;

  private static final long DAY = Duration.ofDays(1).toMillis();
  private static final long MIN_ACTIVATION_DELAY = Duration.ofMinutes(10).toMillis();
  private static final double CAR_PARK_SHARE = 0.12;
  private static final long MIN_HEARTBEAT_SECONDS = 10;
  private static final long MAX_HEARTBEAT_SECONDS = 24 * 3600;
  private static final int BATTERY_LOW_BELOW = 20, BATTERY_RECOVERED_ABOVE = 30;

  private final String prefix;
  private final FleetProfile profile;
  private final int offlineAfterHeartbeats;
  private final int size;
  private final int siteCount;

  // layout
  private final byte[] model;
  private final int[] site;
  private final boolean[] carPark;
  private final int[] siteStart;
  private final byte[] initialFirmware;
  private final boolean[] claimPlanned;
  private final boolean[] neverReports;
  // behaviour
  private final long[] rng;
  private final byte[] state;
  private final long[] due;
  private final long[] nextDropAt;
  private final long[] offlineUntil;
  /** Devices told to fall silent for good at their next heartbeat (a failure test's witnesses); null until one is. */
  private BitSet silenced;
  private final float[] battery;
  private final float[] drainPerDay;
  private final float[] rechargeAt;
  private final byte[] firmware;
  private final long[] nextUpgradeAt;
  private final byte[] fault;
  private final long[] faultChangeAt;
  private final boolean[] inUse;
  private final long[] sessionChangeAt;
  private final long[] decommissionAt;
  // ground truth
  private final long[] claimedAt;
  private final long[] activatedAt;
  private final long[] lastSent;
  private final long[] offlineMillis;
  private final int[] drops;
  private final long[] decommissionedAt;
  /** When each device's battery ran out (and was recharged at once), oldest first; null for none. */
  private final long[][] ranOut;
  private final int[] decommissionLatency;
  private final boolean[] batteryLow;
  private final int[] batteryLowEpisodes;
  // site truth: brought up to date before every change of one of a site's devices
  private final long[] siteSince;
  private final byte[] siteStatus;
  private final long[][] siteServed;
  private final long[][] siteDown;
  private final int[][] siteChanges;
  private YearMonth firstMonth;
  private final Map<String, Long> offlineByFirmware = new HashMap<>();
  private long readings;
  private int heartbeatDivisor = 1;
  private int heartbeatMultiplier = 1;

  private Fleet(long seed, int size, int siteCount, String prefix, FleetProfile profile, int offlineAfterHeartbeats) {
    this.prefix = prefix;
    this.profile = profile;
    this.offlineAfterHeartbeats = offlineAfterHeartbeats;
    this.size = size;
    this.siteCount = siteCount;
    model = new byte[size];
    site = new int[size];
    carPark = new boolean[siteCount];
    siteStart = new int[siteCount + 1];
    initialFirmware = new byte[size];
    claimPlanned = new boolean[size];
    neverReports = new boolean[size];
    rng = new long[size];
    state = new byte[size];
    due = new long[size];
    nextDropAt = new long[size];
    offlineUntil = new long[size];
    battery = new float[size];
    drainPerDay = new float[size];
    rechargeAt = new float[size];
    firmware = new byte[size];
    nextUpgradeAt = new long[size];
    fault = new byte[size];
    faultChangeAt = new long[size];
    inUse = new boolean[size];
    sessionChangeAt = new long[size];
    decommissionAt = new long[size];
    claimedAt = new long[size];
    activatedAt = new long[size];
    lastSent = new long[size];
    offlineMillis = new long[size];
    drops = new int[size];
    decommissionedAt = new long[size];
    ranOut = new long[size][];
    decommissionLatency = new int[size];
    batteryLow = new boolean[size];
    batteryLowEpisodes = new int[size];
    siteSince = new long[siteCount];
    siteStatus = new byte[siteCount];
    siteServed = new long[siteCount][];
    siteDown = new long[siteCount][];
    siteChanges = new int[siteCount][];
  }

  /**
   * Lays out {@code devices} devices over {@code sites} sites for {@code seed}. Ids are {@code
   * prefix} + {@code d<n>} for devices, {@code s<n>} for sites and {@code c<n>} for their customers.
   */
  public static Fleet plan(long seed, int devices, int sites, String prefix, FleetProfile profile, int offlineAfterHeartbeats) {
    if (devices < 1 || sites < 1 || sites > devices) {
      throw new IllegalArgumentException("need at least one device per site and at least one site, got " + devices + " devices at " + sites + " sites");
    }
    Fleet f = new Fleet(seed, devices, sites, prefix, profile, offlineAfterHeartbeats);
    int[] siteSize = layOut(new SplittableRandom(seed), devices, sites, f.carPark);
    int d = 0;
    for (int s = 0; s < sites; s++) {
      f.siteStart[s] = d;
      for (int k = 0; k < siteSize[s]; k++, d++) {
        f.site[d] = s;
        f.init(d, seed);
      }
    }
    f.siteStart[sites] = devices;
    return f;
  }

  /** How many devices each site gets: homes one to four, car parks share the rest evenly. */
  private static int[] layOut(SplittableRandom r, int devices, int sites, boolean[] carPark) {
    int[] size = new int[sites];
    int homes = 0;
    int parks = 0;
    for (int s = 0; s < sites; s++) {
      carPark[s] = r.nextDouble() < CAR_PARK_SHARE;
      if (carPark[s]) {
        parks++;
      } else {
        size[s] = 1 + r.nextInt(4);
        homes += size[s];
      }
    }
    if (parks == 0) {
      carPark[sites - 1] = true;
      homes -= size[sites - 1];
      size[sites - 1] = 0;
      parks = 1;
    }
    // Shrink homes (never below one device) until every car park has a charger. With at least one
    // device per site this always ends: homes of one device leave a device for every car park.
    while (devices - homes < parks) {
      for (int s = 0; s < sites && devices - homes < parks; s++) {
        if (!carPark[s] && size[s] > 1) {
          size[s]--;
          homes--;
        }
      }
    }
    int rest = devices - homes;
    int seen = 0;
    for (int s = 0; s < sites; s++) {
      if (carPark[s]) {
        size[s] = rest / parks + (seen < rest % parks ? 1 : 0);
        seen++;
      }
    }
    return size;
  }

  private void init(int i, long seed) {
    rng[i] = mix(seed ^ mix(i + 0x632BE59BD9B4E019L));
    DeviceModel m;
    if (carPark[site[i]]) {
      m = DeviceModel.CHARGER;
    } else {
      double u = uniform(i);
      m = u < 0.4 ? DeviceModel.THERMOSTAT : u < 0.75 ? DeviceModel.CAMERA : DeviceModel.LOCK;
    }
    model[i] = (byte) m.ordinal();
    initialFirmware[i] = (byte) m.firmwareFor(uniform(i));
    firmware[i] = initialFirmware[i];
    claimPlanned[i] = uniform(i) >= profile.unclaimedShare();
    neverReports[i] = uniform(i) < profile.neverReportsShare();
    if (m.hasBattery()) {
      battery[i] = (float) (55 + 45 * uniform(i));
      drainPerDay[i] = (float) (profile.batteryDrain() * m.drainPercentPerDay() * (0.7 + 0.6 * uniform(i)));
      rechargeAt[i] = rechargeLevel(i);
    }
    fault[i] = -1;
    state[i] = UNCLAIMED;
    due[i] = NEVER;
  }

  // ---- the driver's side: provisioning and stepping ----

  public int size() {
    return size;
  }

  public int siteCount() {
    return siteCount;
  }

  public boolean claimPlanned(int i) {
    return claimPlanned[i];
  }

  /** The claim is on its way. */
  public void claiming(int i) {
    state[i] = CLAIMING;
  }

  /** The claim was refused: the device stays unclaimed. */
  public void claimFailed(int i) {
    state[i] = UNCLAIMED;
  }

  /**
   * The service acknowledged the claim at {@code at}. Returns when the device first reports, or
   * {@link #NEVER} for the ones whose onboarding stalls.
   */
  public long claimed(int i, long at) {
    claimedAt[i] = at;
    state[i] = AWAITING_FIRST_REPORT;
    long least = Math.min(MIN_ACTIVATION_DELAY, profile.activationDelay().toMillis());
    due[i] = neverReports[i] ? NEVER : at + Math.max(least, exponential(i, profile.activationDelay()));
    return due[i];
  }

  /**
   * Device {@code i}, on line, sends nothing from its next heartbeat on and never comes back: the
   * truth then has it off line from its last report plus its offline-after. False if it is not on line.
   */
  public boolean silence(int i) {
    if (state[i] != ONLINE) {
      return false;
    }
    if (silenced == null) {
      silenced = new BitSet(size);
    }
    silenced.set(i);
    nextDropAt[i] = Long.MIN_VALUE;
    return true;
  }

  /** When the device next wants to be stepped, or {@link #NEVER}. */
  public long due(int i) {
    return due[i];
  }

  /**
   * Advances device {@code i} to its due time {@code t}. With {@code frozen} nothing changes any
   * more (no drops, faults, sessions, drain, upgrades, activations or retirements): devices on line
   * keep reporting the same values and devices off line stay off, so the service's view settles
   * and can be compared with the truth.
   */
  public Step step(int i, long t, boolean frozen) {
    advanceSite(site[i], t);
    switch (state[i]) {
      case AWAITING_FIRST_REPORT -> {
        if (frozen) {
          due[i] = NEVER;
          return Step.NOTHING;
        }
        activatedAt[i] = t;
        state[i] = ONLINE;
        nextDropAt[i] = t + exponential(i, betweenDrops(i));
        faultChangeAt[i] = t + exponential(i, profile.betweenFaults());
        sessionChangeAt[i] = t + exponential(i, profile.betweenSessions());
        nextUpgradeAt[i] = firmware[i] == modelOf(i).latestFirmware() ? NEVER : t + exponential(i, profile.untilUpgrade());
        decommissionAt[i] = t + exponential(i, profile.lifetime());
        return report(i, t, false);
      }
      case ONLINE -> {
        if (!frozen && decommissionAt[i] <= t) {
          state[i] = RETIRING;
          due[i] = NEVER;
          return Step.RETIRE;
        }
        if (!frozen && nextDropAt[i] <= t) {
          state[i] = OFFLINE;
          offlineUntil[i] = silenced != null && silenced.get(i) ? NEVER : t + exponential(i, profile.dropLength());
          due[i] = offlineUntil[i];
          return Step.NOTHING;
        }
        return report(i, t, frozen);
      }
      case OFFLINE -> {
        if (frozen) {
          due[i] = NEVER;
          return Step.NOTHING;
        }
        long episode = Math.max(0, t - (lastSent[i] + offlineAfter(i)));
        offlineMillis[i] += episode;
        offlineByFirmware.merge(firmwareOf(i), episode, Long::sum); // it upgrades only when it reports
        drops[i]++;
        state[i] = ONLINE;
        nextDropAt[i] = t + exponential(i, betweenDrops(i));
        return report(i, t, false);
      }
      default -> {
        due[i] = NEVER;
        return Step.NOTHING;
      }
    }
  }

  private Step report(int i, long t, boolean frozen) {
    DeviceModel m = modelOf(i);
    if (!frozen) {
      if (m.hasBattery()) {
        long since = lastSent[i] == 0 ? 0 : t - lastSent[i];
        battery[i] -= (float) (drainPerDay[i] * since / DAY);
        if (battery[i] <= rechargeAt[i]) {
          battery[i] = 100; // the battery ran out: the customer recharged it or put in new ones
          rechargeAt[i] = rechargeLevel(i);
          ranOut[i] = appended(ranOut[i], t);
        }
        int b = batteryPercent(i);
        if (!batteryLow[i] && b < BATTERY_LOW_BELOW) {
          batteryLow[i] = true;
          batteryLowEpisodes[i]++;
        } else if (batteryLow[i] && b > BATTERY_RECOVERED_ABOVE) {
          batteryLow[i] = false;
        }
      }
      if (m.faultCount() > 0 && faultChangeAt[i] <= t) {
        if (fault[i] < 0) {
          fault[i] = (byte) (uniform(i) * m.faultCount());
          faultChangeAt[i] = t + exponential(i, profile.faultLength());
        } else {
          fault[i] = -1;
          faultChangeAt[i] = t + exponential(i, profile.betweenFaults());
        }
      }
      if (m.isCharger() && sessionChangeAt[i] <= t) {
        inUse[i] = !inUse[i];
        sessionChangeAt[i] = t + exponential(i, inUse[i] ? profile.sessionLength() : profile.betweenSessions());
      }
      if (nextUpgradeAt[i] <= t) {
        firmware[i] = (byte) m.latestFirmware();
        nextUpgradeAt[i] = NEVER;
      }
    }
    lastSent[i] = t;
    readings++;
    due[i] = t + heartbeatMillis(i);
    return Step.REPORT;
  }

  /** The service acknowledged at {@code at} the decommissioning requested at {@code requestedAt}. */
  public void decommissioned(int i, long requestedAt, long at) {
    advanceSite(site[i], at);
    state[i] = DECOMMISSIONED;
    decommissionedAt[i] = at;
    decommissionLatency[i] = (int) Math.min(Integer.MAX_VALUE, Math.max(0, at - requestedAt));
  }

  /** A battery runs out (and is recharged at once) at 1% to 3%: the moment a forecast must come before. */
  private float rechargeLevel(int i) {
    return (float) (1 + 2 * uniform(i));
  }

  private static long[] appended(long[] a, long t) {
    long[] out = a == null ? new long[1] : Arrays.copyOf(a, a.length + 1);
    out[out.length - 1] = t;
    return out;
  }

  /** When device {@code i}'s battery ran out, oldest first (each time it was recharged at once). */
  public long[] ranOut(int i) {
    return ranOut[i] == null ? new long[0] : ranOut[i].clone();
  }

  /** When the service acknowledged device {@code i}'s decommissioning; 0 if it is not decommissioned. */
  public long decommissionedAt(int i) {
    return decommissionedAt[i];
  }

  /** How long device {@code i}'s decommissioning took from request to acknowledgement; 0 if it is not decommissioned. */
  public long decommissionLatency(int i) {
    return decommissionLatency[i];
  }

  // ---- what a reading carries ----

  public String deviceId(int i) {
    return prefix + "d" + i;
  }

  /** The number of the device with id {@code deviceId}, or -1 if it is not one of this fleet's. */
  public int indexOf(String deviceId) {
    int at = prefix.length() + 1;
    if (!deviceId.startsWith(prefix) || deviceId.length() <= at || deviceId.charAt(at - 1) != 'd') {
      return -1;
    }
    int i = 0;
    for (int k = at; k < deviceId.length(); k++) {
      char c = deviceId.charAt(k);
      if (c < '0' || c > '9' || i > (size - 1) / 10) {
        return -1;
      }
      i = 10 * i + (c - '0');
    }
    return i < size ? i : -1;
  }

  public String siteId(int i) {
    return prefix + "s" + site[i];
  }

  /** The id of site number {@code siteNumber}. */
  public String siteIdOf(int siteNumber) {
    return prefix + "s" + siteNumber;
  }

  public String customerId(int i) {
    return prefix + "c" + site[i];
  }

  public String serial(int i) {
    return "SN" + Long.toHexString(mix(rng.length + i)).toUpperCase();
  }

  public DeviceModel modelOf(int i) {
    return DeviceModel.of(model[i]);
  }

  /**
   * The model name device {@code i} registers with: the model's id after the fleet's prefix, so a
   * run's devices can be counted and listed by model apart from any others on the service.
   */
  public String modelName(int i) {
    return modelName(modelOf(i));
  }

  public String modelName(DeviceModel m) {
    return prefix + m.id();
  }

  public String firmwareOf(int i) {
    return modelOf(i).firmware(firmware[i]);
  }

  public String initialFirmwareOf(int i) {
    return modelOf(i).firmware(initialFirmware[i]);
  }

  /** The battery as the device reports it: whole percent, never 0 while it still runs. */
  public int batteryPercent(int i) {
    return Math.max(1, Math.min(100, (int) Math.ceil(battery[i])));
  }

  /** The open fault, or null. */
  public DeviceModel.Fault faultOf(int i) {
    return fault[i] < 0 ? null : modelOf(i).fault(fault[i]);
  }

  public boolean inUse(int i) {
    return inUse[i];
  }

  // ---- ground truth ----

  public byte state(int i) {
    return state[i];
  }

  public long readings() {
    return readings;
  }

  public long activatedAt(int i) {
    return activatedAt[i];
  }

  public long lastSent(int i) {
    return lastSent[i];
  }

  public int batteryLowEpisodes(int i) {
    return batteryLowEpisodes[i];
  }

  public boolean defective(int i) {
    return modelOf(i).defective(firmware[i]);
  }

  /**
   * How often device {@code i} reports: its model's interval, multiplied for sparser fleets or
   * divided for denser ones, in whole seconds, within the service's 10 s to 24 h.
   */
  public long heartbeatMillis(int i) {
    long scaled = modelOf(i).heartbeat().toSeconds() * heartbeatMultiplier / heartbeatDivisor;
    return Math.min(MAX_HEARTBEAT_SECONDS, Math.max(MIN_HEARTBEAT_SECONDS, scaled)) * 1000;
  }

  /**
   * The same fleet with every heartbeat interval multiplied by {@code multiplier} (at most 24
   * hours): on a fast clock, fewer readings and wider off-line windows in real time, so a run can
   * span months without the load or the timing of every reading deciding the verdict.
   */
  public Fleet withHeartbeatMultiplier(int multiplier) {
    if (multiplier < 1) {
      throw new IllegalArgumentException("the heartbeat multiplier must be at least 1, was " + multiplier);
    }
    heartbeatMultiplier = multiplier;
    return this;
  }

  /** The same fleet with every heartbeat interval divided by {@code divisor} (at least ten seconds). */
  public Fleet withHeartbeatDivisor(int divisor) {
    if (divisor < 1) {
      throw new IllegalArgumentException("the heartbeat divisor must be at least 1, was " + divisor);
    }
    heartbeatDivisor = divisor;
    return this;
  }

  /** How long after its last report the service counts this device off line. */
  public long offlineAfter(int i) {
    return offlineAfterHeartbeats * heartbeatMillis(i);
  }

  /** Whether the service should count the device on line at {@code t}. */
  public boolean online(int i, long t) {
    byte s = state[i];
    return (s == ONLINE || s == OFFLINE || s == RETIRING) && t < lastSent[i] + offlineAfter(i);
  }

  /** The journey stage at {@code t}, by the rules the service follows. */
  public Stage stage(int i, long t) {
    return switch (state[i]) {
      case UNCLAIMED, CLAIMING -> Stage.UNCLAIMED;
      case AWAITING_FIRST_REPORT -> Stage.ONBOARDING;
      case DECOMMISSIONED -> Stage.END_OF_LIFE;
      default -> {
        long age = t - activatedAt[i];
        yield age < 30 * DAY ? Stage.DAY_30 : age < 60 * DAY ? Stage.DAY_60 : age < 90 * DAY ? Stage.DAY_90 : Stage.MATURE;
      }
    };
  }

  /** Working: on line, not retired, no critical fault. */
  public boolean working(int i, long t) {
    return state[i] != DECOMMISSIONED && online(i, t) && !criticalFault(i);
  }

  private boolean criticalFault(int i) {
    DeviceModel.Fault f = faultOf(i);
    return f != null && f.severity() == io.twinfleet.protocol.v1.Severity.CRITICAL;
  }

  /**
   * Device {@code i}'s life up to {@code t}, as the service counts uptime: from its first report after
   * the claim to its decommissioning; zero if it never reported.
   */
  public long lifeMillis(int i, long t) {
    if (activatedAt[i] == 0) {
      return 0;
    }
    long end = state[i] == DECOMMISSIONED ? decommissionedAt[i] : t;
    return Math.max(0, end - activatedAt[i]);
  }

  /**
   * Off-line time in device {@code i}'s life up to {@code t} as the service defines it: from the
   * last report plus the off-line threshold until the next report, or until {@code t} or the
   * decommissioning for the episode still open.
   */
  public long offlineMillis(int i, long t) {
    if (activatedAt[i] == 0) {
      return 0;
    }
    long end = state[i] == DECOMMISSIONED ? decommissionedAt[i] : t;
    return offlineMillis[i] + Math.max(0, end - (lastSent[i] + offlineAfter(i)));
  }

  /**
   * How many times device {@code i} went silent and came back, whether or not the silence outlasted
   * the off-line threshold (the one still silent not counted).
   */
  public int drops(int i) {
    return drops[i];
  }

  /**
   * Off-line time in devices' life up to {@code t} per firmware version the device ran meanwhile
   * (as {@link #offlineMillis}, summed). Read while the fleet is frozen.
   */
  public Map<String, Long> offlineByFirmware(long t) {
    Map<String, Long> out = new HashMap<>(offlineByFirmware);
    for (int i = 0; i < size; i++) {
      long open = offlineMillis(i, t) - offlineMillis[i];
      if (open > 0) {
        out.merge(firmwareOf(i), open, Long::sum);
      }
    }
    return out;
  }

  /** The share of all active devices' life up to {@code t} that they were not off line. */
  public double fleetUptime(long t) {
    double life = 0;
    double down = 0;
    for (int i = 0; i < size; i++) {
      life += lifeMillis(i, t);
      down += offlineMillis(i, t);
    }
    return life == 0 ? 1 : 1 - down / life;
  }

  /** Whether site {@code siteNumber} is commercially available at {@code t}: a device working and free. */
  public boolean siteAvailable(int siteNumber, long t) {
    for (int i = siteStart[siteNumber]; i < siteStart[siteNumber + 1]; i++) {
      if (working(i, t) && !inUse[i]) {
        return true;
      }
    }
    return false;
  }

  // ---- site truth: in service, available, per calendar month (UTC) ----

  /** Not in service (no active device), available (a device active, working and free), down (in service, none free). */
  private static final byte NOT_IN_SERVICE = 0, AVAILABLE = 1, DOWN = 2;

  /**
   * Site {@code s} as it stands between its last change and the next: how many devices are active
   * (activated, not decommissioned), and until when the last free one stays on line (working and
   * not in use; a free device is on line until its last report plus its off-line threshold).
   */
  private long[] siteNow(int s) {
    long active = 0;
    long freeUntil = Long.MIN_VALUE;
    for (int i = siteStart[s]; i < siteStart[s + 1]; i++) {
      if (activatedAt[i] != 0 && state[i] != DECOMMISSIONED) {
        active++;
        if (!inUse[i] && !criticalFault(i)) {
          freeUntil = Math.max(freeUntil, lastSent[i] + offlineAfter(i));
        }
      }
    }
    return new long[] {active, freeUntil};
  }

  /** Adds site {@code s}'s time since its last change up to {@code t} to its months, before a change at {@code t}. */
  private void advanceSite(int s, long t) {
    long last = siteSince[s];
    if (last == 0 || t <= last) {
      siteSince[s] = Math.max(last, t);
      return;
    }
    long[] now = siteNow(s);
    byte status = now[0] == 0 ? NOT_IN_SERVICE : now[1] > last ? AVAILABLE : DOWN;
    if (status != siteStatus[s]) {
      count(s, last);
    }
    if (status != NOT_IN_SERVICE) {
      add(s, siteServed, last, t);
      long downFrom = Math.max(last, now[1]);
      if (downFrom < t) {
        add(s, siteDown, downFrom, t);
        if (status == AVAILABLE) {
          count(s, downFrom);
          status = DOWN;
        }
      }
    }
    siteStatus[s] = status;
    siteSince[s] = t;
  }

  private void add(int s, long[][] perMonth, long from, long to) {
    while (from < to) {
      int m = monthIndex(from);
      long end = Math.min(to, monthStart(m + 1));
      perMonth[s] = grown(perMonth[s], m);
      perMonth[s][m] += end - from;
      from = end;
    }
  }

  private void count(int s, long at) {
    int m = monthIndex(at);
    if (siteChanges[s] == null || siteChanges[s].length <= m) {
      siteChanges[s] = Arrays.copyOf(siteChanges[s] == null ? new int[0] : siteChanges[s], m + 1);
    }
    siteChanges[s][m]++;
  }

  private static long[] grown(long[] a, int index) {
    return a != null && a.length > index ? a : Arrays.copyOf(a == null ? new long[0] : a, index + 1);
  }

  /** Months are counted from the one the first site change fell in. */
  private int monthIndex(long t) {
    YearMonth m = YearMonth.from(Instant.ofEpochMilli(t).atZone(ZoneOffset.UTC));
    if (firstMonth == null) {
      firstMonth = m;
    }
    return (int) firstMonth.until(m, ChronoUnit.MONTHS);
  }

  private long monthStart(int index) {
    return firstMonth.plusMonths(index).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
  }

  /**
   * Site {@code s}'s calendar month {@code month} up to {@code t} as the service counts its SLA
   * (no maintenance declared): time in service, time of it the site was down, and how many times
   * it changed between not in service, available and down. Read only: the time since the site's
   * last change is added on the fly.
   */
  public SiteMonth siteMonth(int s, YearMonth month, long t) {
    if (siteSince[s] == 0 || firstMonth == null) {
      return new SiteMonth(0, 0, 0);
    }
    int m = monthIndex(month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli());
    long served = m >= 0 && siteServed[s] != null && siteServed[s].length > m ? siteServed[s][m] : 0;
    long down = m >= 0 && siteDown[s] != null && siteDown[s].length > m ? siteDown[s][m] : 0;
    int changes = m >= 0 && siteChanges[s] != null && siteChanges[s].length > m ? siteChanges[s][m] : 0;
    long last = siteSince[s];
    long from = Math.max(last, m < 0 ? Long.MAX_VALUE : monthStart(m));
    long to = Math.min(t, m < 0 ? Long.MIN_VALUE : monthStart(m + 1));
    long[] now = siteNow(s);
    if (now[0] > 0 && from < to) {
      served += to - from;
      long downFrom = Math.max(from, now[1]);
      if (downFrom < to) {
        down += to - downFrom;
        changes++;
      }
    }
    return new SiteMonth(served, down, changes);
  }

  /** A site's month: milliseconds in service and down, and its changes of state. */
  public record SiteMonth(long servedMillis, long downMillis, int changes) {}

  /** The devices of site {@code siteNumber}: from {@link #firstDeviceOf} up to this one, exclusive. */
  public int endOfSite(int siteNumber) {
    return siteStart[siteNumber + 1];
  }

  /** Whether site {@code siteNumber} has an active device: activated and not decommissioned. */
  public boolean siteInService(int siteNumber) {
    return siteNow(siteNumber)[0] > 0;
  }

  /** The first device of site {@code siteNumber}; its devices are numbered consecutively. */
  public int firstDeviceOf(int siteNumber) {
    return siteStart[siteNumber];
  }

  public long claimedAt(int i) {
    return claimedAt[i];
  }

  public boolean batteryLow(int i) {
    return batteryLow[i];
  }

  public int siteOf(int i) {
    return site[i];
  }

  public boolean carPark(int siteNumber) {
    return carPark[siteNumber];
  }

  /** The journey milestones after activation, for tolerance around stage boundaries. */
  public long nextStageBoundary(int i, long t) {
    if (activatedAt[i] == 0 || state[i] == DECOMMISSIONED) {
      return NEVER;
    }
    for (int days : new int[] {30, 60, 90}) {
      long b = activatedAt[i] + days * DAY;
      if (b > t) {
        return b;
      }
    }
    return NEVER;
  }

  // ---- randomness: one SplitMix64 stream per device ----

  private double uniform(int i) {
    rng[i] += 0x9E3779B97F4A7C15L;
    return (mix(rng[i]) >>> 11) * 0x1.0p-53;
  }

  private long exponential(int i, Duration mean) {
    return (long) (-Math.log(1 - uniform(i)) * mean.toMillis());
  }

  private Duration betweenDrops(int i) {
    return defective(i) ? profile.betweenDropsDefective() : profile.betweenDrops();
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
