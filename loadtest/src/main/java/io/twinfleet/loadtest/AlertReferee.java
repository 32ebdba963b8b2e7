package io.twinfleet.loadtest;

import com.google.protobuf.util.Timestamps;
import io.grpc.ManagedChannel;
import io.twinfleet.loadtest.Referee.Mismatch;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.protocol.v1.Alert;
import io.twinfleet.protocol.v1.AlertKind;
import io.twinfleet.protocol.v1.ListAlertsRequest;
import io.twinfleet.protocol.v1.ListAlertsResponse;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Referees the battery alerts of a frozen fleet from {@code ListAlerts}: every battery that drained
 * below 20% got exactly one BATTERY_LOW per episode, and every battery that ran out had a
 * BATTERY_FORECAST raised during the drain that ended so (after the previous recharge, or the
 * device's activation, and before it ran out). The alert read model trails the twins by the
 * projection's delay, so it is asked again for up to {@code patience}.
 */
final class AlertReferee {

  /** Battery-low episodes and their alerts; drains that ran out and those forecast in time; what differed. */
  record Result(long lowEpisodes, long lowAlerts, long ranOut, long forecastInTime, List<Mismatch> mismatches) {
    static Result none() {
      return new Result(0, 0, 0, 0, List.of());
    }
  }

  private AlertReferee() {}

  static Result verify(Fleet fleet, ManagedChannel channel, Duration patience) throws InterruptedException {
    var quality = QualityServiceGrpc.newBlockingStub(channel);
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      Result r = check(fleet, alertsByDevice(fleet, quality, AlertKind.BATTERY_LOW), alertsByDevice(fleet, quality, AlertKind.BATTERY_FORECAST));
      if (r.mismatches().isEmpty() || System.nanoTime() > deadline) {
        return r;
      }
      TimeUnit.SECONDS.sleep(2);
    }
  }

  private static Result check(Fleet fleet, Map<Integer, List<Alert>> low, Map<Integer, List<Alert>> forecast) {
    List<Mismatch> out = new ArrayList<>();
    long episodes = 0;
    long lowAlerts = 0;
    long ranOut = 0;
    long inTime = 0;
    for (int i = 0; i < fleet.size(); i++) {
      int expected = fleet.batteryLowEpisodes(i);
      int got = low.getOrDefault(i, List.of()).size();
      episodes += expected;
      lowAlerts += got;
      if (expected != got) {
        out.add(new Mismatch(fleet.deviceId(i), "BATTERY_LOW alerts", expected + " (one per episode below 20%)", String.valueOf(got)));
      }
      long drainStart = fleet.activatedAt(i);
      for (long empty : fleet.ranOut(i)) {
        ranOut++;
        long from = drainStart;
        boolean forecastInTime = forecast.getOrDefault(i, List.of()).stream()
            .mapToLong(a -> Timestamps.toMillis(a.getRaisedAt()))
            .anyMatch(raised -> raised >= from && raised < empty);
        if (forecastInTime) {
          inTime++;
        } else {
          out.add(new Mismatch(fleet.deviceId(i), "BATTERY_FORECAST", "raised between " + Instant.ofEpochMilli(from) + " and "
              + Instant.ofEpochMilli(empty) + " (ran out)", "none: " + forecast.getOrDefault(i, List.of()).stream()
              .map(a -> Timestamps.toString(a.getRaisedAt())).toList()));
        }
        drainStart = empty;
      }
    }
    return new Result(episodes, lowAlerts, ranOut, inTime, out);
  }

  /** Every alert of {@code kind}, in any state, of the fleet's devices, by device number. */
  private static Map<Integer, List<Alert>> alertsByDevice(Fleet fleet, QualityServiceGrpc.QualityServiceBlockingStub quality, AlertKind kind) {
    Map<String, Integer> numbers = new HashMap<>(fleet.size() * 2);
    for (int i = 0; i < fleet.size(); i++) {
      numbers.put(fleet.deviceId(i), i);
    }
    Map<Integer, List<Alert>> out = new HashMap<>();
    ListAlertsRequest request = ListAlertsRequest.newBuilder().setKind(kind).setPageSize(500).build();
    String token = "";
    do {
      ListAlertsResponse page = quality.withDeadlineAfter(30, TimeUnit.SECONDS).listAlerts(request.toBuilder().setPageToken(token).build());
      for (Alert a : page.getAlertsList()) {
        Integer i = numbers.get(a.getDeviceId());
        if (i != null) {
          out.computeIfAbsent(i, k -> new ArrayList<>()).add(a);
        }
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }
}
