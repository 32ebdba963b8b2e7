package io.twinfleet.loadtest;

import com.google.protobuf.util.Durations;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.twinfleet.loadtest.Referee.Mismatch;
import io.twinfleet.loadtest.sim.DeviceModel;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.protocol.v1.GetQualityBreakdownRequest;
import io.twinfleet.protocol.v1.QualityBreakdown;
import io.twinfleet.protocol.v1.QualityDimension;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.QualityShare;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Referees the fleet quality read models after a run: the run's uptime over its whole life, from
 * {@code GetQualityBreakdown(MODEL)} summed over the run's models (their names carry the run's
 * prefix, so other devices on the service do not count), against the truth within the allowance
 * the device referee computed; and whether the firmware the truth says caused most downtime tops
 * {@code GetQualityBreakdown(FIRMWARE)} when the truth is clear-cut (its top has at least 1.5 times
 * the downtime of the next).
 */
final class QualityReferee {

  record Result(double service, double truth, double tolerance, String serviceTopFirmware, String trueTopFirmware, List<Mismatch> mismatches) {
    static Result none() {
      return new Result(Double.NaN, Double.NaN, 0, "", "", List.of());
    }
  }

  private QualityReferee() {}

  /** {@code tolerance}: how far the fleet's uptime may differ (the device referee's, over every device). */
  static Result verify(Fleet fleet, ServiceTime time, ManagedChannel channel, double tolerance, Duration patience) throws InterruptedException {
    var quality = QualityServiceGrpc.newBlockingStub(channel);
    long now = time.nowMillis();
    long first = Long.MAX_VALUE;
    for (int i = 0; i < fleet.size(); i++) {
      if (fleet.activatedAt(i) != 0) {
        first = Math.min(first, fleet.activatedAt(i));
      }
    }
    Map<String, Long> trueDownByFirmware = fleet.offlineByFirmware(now);
    if (first == Long.MAX_VALUE) {
      return Result.none();
    }
    Duration window = Duration.ofMillis(now - first).plusHours(2).truncatedTo(java.time.temporal.ChronoUnit.HOURS);
    double truth = fleet.fleetUptime(now);
    long giveUpAt = System.nanoTime() + patience.toNanos();
    List<Mismatch> mismatches;
    double service;
    String serviceTop;
    while (true) {
      mismatches = new ArrayList<>();
      long life = 0;
      long down = 0;
      serviceTop = "";
      try {
        QualityBreakdown models = quality.withDeadlineAfter(30, TimeUnit.SECONDS).getQualityBreakdown(GetQualityBreakdownRequest.newBuilder()
            .setDimension(QualityDimension.MODEL).setWindow(Durations.fromMillis(window.toMillis())).build());
        for (QualityShare s : models.getValuesList()) {
          if (isFleetModel(fleet, s.getValue())) {
            life += Durations.toMillis(s.getLife());
            down += Math.round(s.getDowntimeHours() * 3_600_000);
          }
        }
        QualityBreakdown firmware = quality.withDeadlineAfter(30, TimeUnit.SECONDS).getQualityBreakdown(GetQualityBreakdownRequest.newBuilder()
            .setDimension(QualityDimension.FIRMWARE).setWindow(Durations.fromMillis(window.toMillis())).build());
        serviceTop = firmware.getValuesCount() == 0 ? "" : firmware.getValues(0).getValue();
      } catch (StatusRuntimeException e) {
        mismatches.add(new Mismatch("fleet", "GetQualityBreakdown", "an answer", e.getStatus().getCode() + " " + e.getStatus().getDescription()));
      }
      service = life == 0 ? Double.NaN : 1 - (double) down / life;
      if (!(Math.abs(service - truth) <= tolerance)) {
        mismatches.add(new Mismatch("fleet", "uptime (GetQualityBreakdown by model, over the run)", percent(truth) + " ± " + percent(tolerance),
            percent(service)));
      }
      String trueTop = clearTop(trueDownByFirmware);
      if (trueTop != null && !trueTop.equals(serviceTop)) {
        mismatches.add(new Mismatch("fleet", "firmware with most downtime", trueTop, serviceTop));
      }
      if (mismatches.isEmpty() || System.nanoTime() > giveUpAt) {
        return new Result(service, truth, tolerance, serviceTop, trueTop == null ? "" : trueTop, mismatches);
      }
      TimeUnit.SECONDS.sleep(2); // the read models may still be catching up
    }
  }

  private static boolean isFleetModel(Fleet fleet, String model) {
    for (DeviceModel m : DeviceModel.values()) {
      if (fleet.modelName(m).equals(model)) {
        return true;
      }
    }
    return false;
  }

  /** The firmware with most downtime if it has at least 1.5 times the next one's, else null. */
  private static String clearTop(Map<String, Long> downByFirmware) {
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(downByFirmware.entrySet());
    sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    if (sorted.isEmpty() || sorted.get(0).getValue() == 0) {
      return null;
    }
    return sorted.size() == 1 || sorted.get(0).getValue() >= 1.5 * sorted.get(1).getValue() ? sorted.get(0).getKey() : null;
  }

  private static String percent(double share) {
    return String.format(Locale.ROOT, "%.4f%%", 100 * share);
  }
}
