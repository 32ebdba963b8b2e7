package io.twinfleet.loadtest.sim;

import io.twinfleet.protocol.v1.Severity;
import java.time.Duration;

/**
 * The kinds of device in a simulated fleet, with the behaviour that makes them look like a real
 * fleet: how often they report, how fast their battery drains, which firmware versions are out
 * there (one charger release is defective: it drops off line far more often), and which faults
 * they raise.
 */
public enum DeviceModel {
  THERMOSTAT("thermo-t3", Duration.ofMinutes(15), 0.8,
      new String[] {"3.1.0", "3.2.0"}, new double[] {0.4, 0.6},
      new Fault[] {new Fault("T-SENSOR-DRIFT", Severity.WARNING)}),
  CAMERA("cam-c2", Duration.ofMinutes(10), 3.0,
      new String[] {"2.3.1", "2.4.1"}, new double[] {0.5, 0.5},
      new Fault[] {new Fault("C-STORAGE-FULL", Severity.WARNING), new Fault("C-LENS-BLOCKED", Severity.CRITICAL)}),
  LOCK("lock-l1", Duration.ofMinutes(60), 1.0,
      new String[] {"5.0.2", "5.1.0"}, new double[] {0.3, 0.7},
      new Fault[] {new Fault("L-MOTOR-JAM", Severity.CRITICAL)}),
  CHARGER("evc-22", Duration.ofMinutes(5), Double.NaN,
      new String[] {"1.8.2", "1.9.0", "1.9.1"}, new double[] {0.45, 0.35, 0.2},
      new Fault[] {new Fault("E-GROUND-FAULT", Severity.CRITICAL), new Fault("E-CABLE-TEMP", Severity.WARNING)});

  /** The firmware release that drops off line far more often than the others. */
  public static final String DEFECTIVE_FIRMWARE = "1.9.0";

  public record Fault(String code, Severity severity) {}

  private final String id;
  private final Duration heartbeat;
  private final double drainPercentPerDay;
  private final String[] firmware;
  private final double[] firmwareShare;
  private final Fault[] faults;

  DeviceModel(String id, Duration heartbeat, double drainPercentPerDay, String[] firmware, double[] firmwareShare, Fault[] faults) {
    this.id = id;
    this.heartbeat = heartbeat;
    this.drainPercentPerDay = drainPercentPerDay;
    this.firmware = firmware;
    this.firmwareShare = firmwareShare;
    this.faults = faults;
  }

  /** The model name devices register with. */
  public String id() {
    return id;
  }

  public Duration heartbeat() {
    return heartbeat;
  }

  /** Mains-powered devices report no battery. */
  public boolean hasBattery() {
    return !Double.isNaN(drainPercentPerDay);
  }

  public double drainPercentPerDay() {
    return drainPercentPerDay;
  }

  public boolean isCharger() {
    return this == CHARGER;
  }

  public int firmwareCount() {
    return firmware.length;
  }

  public String firmware(int index) {
    return firmware[index];
  }

  /** The newest release, which devices upgrade to. */
  public int latestFirmware() {
    return firmware.length - 1;
  }

  /** A firmware index for a uniform draw {@code u} in [0, 1), by the installed base's shares. */
  public int firmwareFor(double u) {
    double acc = 0;
    for (int i = 0; i < firmwareShare.length; i++) {
      acc += firmwareShare[i];
      if (u < acc) {
        return i;
      }
    }
    return firmware.length - 1;
  }

  public boolean defective(int firmwareIndex) {
    return firmware[firmwareIndex].equals(DEFECTIVE_FIRMWARE) && this == CHARGER;
  }

  public int faultCount() {
    return faults.length;
  }

  public Fault fault(int index) {
    return faults[index];
  }

  private static final DeviceModel[] ALL = values();

  public static DeviceModel of(int ordinal) {
    return ALL[ordinal];
  }
}
