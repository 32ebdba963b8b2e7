package io.twinfleet.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.twinfleet.loadtest.Referee.Mismatch;
import io.twinfleet.loadtest.sim.DeviceModel;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.protocol.v1.ActivationTimes;
import io.twinfleet.protocol.v1.DeviceJourney;
import io.twinfleet.protocol.v1.DeviceStage;
import io.twinfleet.protocol.v1.GetDeviceJourneyRequest;
import io.twinfleet.protocol.v1.GetStageFunnelRequest;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.ListDevicesByStageRequest;
import io.twinfleet.protocol.v1.ListDevicesByStageResponse;
import io.twinfleet.protocol.v1.Stage;
import io.twinfleet.protocol.v1.StageChange;
import io.twinfleet.protocol.v1.StageCount;
import io.twinfleet.protocol.v1.StageFunnel;
import com.google.protobuf.util.Timestamps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Referees the journey read models after a run: per model of the fleet, the stage funnel (counts and
 * how many were activated) and the stage lists against the truth, then a sample of device journeys
 * (every stage change, from, to and when). The fleet's models carry its id prefix, so these
 * questions concern this run's devices only, even on a service that holds others.
 *
 * <p>The read models trail the twins by seconds, and a stage flips at its milestone: a device
 * whose milestone falls within {@code lag} before or {@code tolerance} after the question may be
 * counted and listed in either stage. Counts and lists are asked again until they agree or
 * {@code patience} has passed.
 */
final class JourneyReferee {

  /** What was checked and what differed. */
  record Result(int models, long devicesCounted, long devicesListed, int journeysChecked, List<Mismatch> mismatches) {
    static Result none() {
      return new Result(0, 0, 0, 0, List.of());
    }
  }

  private static final Stage[] STAGES = {Stage.ONBOARDING, Stage.DAY_30, Stage.DAY_60, Stage.DAY_90, Stage.MATURE, Stage.END_OF_LIFE};

  private final Fleet fleet;
  private final ServiceTime time;
  private final JourneyServiceGrpc.JourneyServiceBlockingStub journeys;
  private final long toleranceMillis;
  private final long lagMillis;

  /**
   * @param toleranceMillis simulated time after a milestone within which a device may not have moved yet
   * @param lagMillis simulated time the read models may trail the twins
   */
  JourneyReferee(Fleet fleet, ServiceTime time, ManagedChannel channel, long toleranceMillis, long lagMillis) {
    this.fleet = fleet;
    this.time = time;
    this.journeys = channel == null ? null : JourneyServiceGrpc.newBlockingStub(channel); // null: compare only (tests)
    this.toleranceMillis = toleranceMillis;
    this.lagMillis = lagMillis;
  }

  /** How far the read models may trail: the projection's delays and the milestone scheduler's round, at most. */
  static long lag(ServiceTime time) {
    return time.simulated(15_000) + Duration.ofMinutes(10).toMillis();
  }

  Result verify(int journeySample, Duration patience) throws InterruptedException {
    long giveUpAt = System.nanoTime() + patience.toNanos();
    List<Mismatch> mismatches;
    long[] counted = new long[1];
    long[] listed = new long[1];
    while (true) {
      mismatches = new ArrayList<>();
      counted[0] = 0;
      listed[0] = 0;
      for (DeviceModel m : DeviceModel.values()) {
        checkModel(m, mismatches, counted, listed);
      }
      if (mismatches.isEmpty() || System.nanoTime() > giveUpAt) {
        break;
      }
      TimeUnit.SECONDS.sleep(2); // the read models may still be catching up
    }
    int journeysChecked = checkJourneys(journeySample, mismatches);
    return new Result(DeviceModel.values().length, counted[0], listed[0], journeysChecked, mismatches);
  }

  /** The stages device {@code i} may be counted in when asked at {@code t}: one when settled, more around a milestone. */
  private EnumSet<Stage> possibleStages(int i, long t) {
    return possibleStages(i, t, t);
  }

  /**
   * The stages device {@code i} may be counted in by answers given between {@code from} and
   * {@code to}: every stage it has between the read models' lag before and the tolerance after.
   */
  private EnumSet<Stage> possibleStages(int i, long from, long to) {
    Stage a = fleet.stage(i, from - lagMillis);
    Stage b = fleet.stage(i, to + toleranceMillis);
    return a.getNumber() <= b.getNumber() ? EnumSet.range(a, b) : EnumSet.range(b, a);
  }

  private boolean claimed(int i) {
    byte s = fleet.state(i);
    return s != Fleet.UNCLAIMED && s != Fleet.CLAIMING;
  }

  private void checkModel(DeviceModel m, List<Mismatch> out, long[] counted, long[] listed) {
    String model = fleet.modelName(m);
    // Ask first, then judge every answer against the stages each device had while they were given.
    long from = time.nowMillis();
    StageFunnel funnel = journeys.withDeadlineAfter(30, TimeUnit.SECONDS).getStageFunnel(GetStageFunnelRequest.newBuilder().setModel(model).build());
    List<Set<String>> shown = new ArrayList<>();
    for (Stage s : STAGES) {
      shown.add(list(s, model));
    }
    long to = time.nowMillis();

    long[] least = new long[Stage.values().length];
    long[] most = new long[Stage.values().length];
    long claimedDevices = 0;
    long activated = 0;
    List<Set<String>> certain = new ArrayList<>();
    List<Set<String>> possible = new ArrayList<>();
    for (int s = 0; s < Stage.values().length; s++) {
      certain.add(new HashSet<>());
      possible.add(new HashSet<>());
    }
    for (int i = 0; i < fleet.size(); i++) {
      if (fleet.modelOf(i) != m || !claimed(i)) {
        continue;
      }
      claimedDevices++;
      if (fleet.activatedAt(i) != 0) {
        activated++;
      }
      EnumSet<Stage> stages = possibleStages(i, from, to);
      for (Stage s : stages) {
        most[s.getNumber()]++;
        possible.get(s.getNumber()).add(fleet.deviceId(i));
        if (stages.size() == 1) {
          least[s.getNumber()]++;
          certain.get(s.getNumber()).add(fleet.deviceId(i));
        }
      }
    }
    counted[0] += funnel.getDevices();
    if (funnel.getDevices() != claimedDevices) {
      out.add(new Mismatch(model, "funnel devices", String.valueOf(claimedDevices), String.valueOf(funnel.getDevices())));
    }
    for (StageCount c : funnel.getStagesList()) {
      int s = c.getStage().getNumber();
      if (c.getDevices() < least[s] || c.getDevices() > most[s]) {
        out.add(new Mismatch(model, "funnel " + c.getStage(), least[s] == most[s] ? String.valueOf(least[s]) : least[s] + " to " + most[s],
            String.valueOf(c.getDevices())));
      }
    }
    long serviceActivated = funnel.getClaimToActivationList().stream().filter(a -> a.getModel().equals(model))
        .mapToLong(ActivationTimes::getDevices).sum();
    if (serviceActivated != activated) {
      out.add(new Mismatch(model, "claim_to_activation devices", String.valueOf(activated), String.valueOf(serviceActivated)));
    }
    for (int k = 0; k < STAGES.length; k++) {
      Stage s = STAGES[k];
      listed[0] += shown.get(k).size();
      Set<String> missing = new HashSet<>(certain.get(s.getNumber()));
      missing.removeAll(shown.get(k));
      Set<String> extra = new HashSet<>(shown.get(k));
      extra.removeAll(possible.get(s.getNumber()));
      if (!missing.isEmpty()) {
        out.add(new Mismatch(model, "ListDevicesByStage " + s, "also " + sample(missing), "not listed"));
      }
      if (!extra.isEmpty()) {
        out.add(new Mismatch(model, "ListDevicesByStage " + s, "not " + sample(extra), "listed"));
      }
    }
  }

  private Set<String> list(Stage stage, String model) {
    Set<String> ids = new HashSet<>();
    String token = "";
    do {
      ListDevicesByStageResponse page = journeys.withDeadlineAfter(30, TimeUnit.SECONDS).listDevicesByStage(ListDevicesByStageRequest.newBuilder()
          .setStage(stage).setModel(model).setPageSize(500).setPageToken(token).build());
      for (DeviceStage d : page.getDevicesList()) {
        ids.add(d.getDeviceId());
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }

  private static String sample(Set<String> ids) {
    List<String> some = ids.stream().sorted().limit(5).toList();
    return ids.size() + " devices, e.g. " + some;
  }

  /** Checks the journeys of up to {@code sample} claimed devices spread over the fleet, skipping any near a milestone. */
  private int checkJourneys(int sample, List<Mismatch> out) {
    if (sample <= 0) {
      return 0;
    }
    int step = Math.max(1, fleet.size() / sample);
    int checked = 0;
    for (int i = 0; i < fleet.size() && checked < sample; i += step) {
      if (!claimed(i)) {
        continue;
      }
      long asked = time.nowMillis();
      if (possibleStages(i, asked).size() > 1) {
        continue;
      }
      DeviceJourney j;
      try {
        j = journeys.withDeadlineAfter(30, TimeUnit.SECONDS).getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId(fleet.deviceId(i)).build());
      } catch (StatusRuntimeException e) {
        out.add(new Mismatch(fleet.deviceId(i), "GetDeviceJourney", "the journey", e.getStatus().toString()));
        continue;
      }
      checked++;
      compare(i, j, asked, out);
    }
    return checked;
  }

  /** The journey {@code j} of device {@code i}, asked at {@code t}, against the truth. */
  void compare(int i, DeviceJourney j, long t, List<Mismatch> out) {
    String id = fleet.deviceId(i);
    List<Stage> expected = new ArrayList<>(List.of(Stage.ONBOARDING));
    List<Long> expectedAt = new ArrayList<>(List.of(fleet.claimedAt(i)));
    long activatedAt = fleet.activatedAt(i);
    boolean retired = fleet.state(i) == Fleet.DECOMMISSIONED;
    long end = retired ? fleet.decommissionedAt(i) : t;
    long serviceActivated = j.hasActivatedAt() ? Timestamps.toMillis(j.getActivatedAt()) : 0;
    if (activatedAt != 0) {
      expected.add(Stage.DAY_30);
      expectedAt.add(activatedAt);
      Stage[] timed = {Stage.DAY_60, Stage.DAY_90, Stage.MATURE};
      for (int k = 0; k < timed.length; k++) {
        long milestone = serviceActivated + (30L * (k + 1)) * 86_400_000L;
        if (serviceActivated != 0 && milestone <= end) {
          expected.add(timed[k]);
          expectedAt.add(milestone);
        }
      }
    }
    if (retired) {
      expected.add(Stage.END_OF_LIFE);
      expectedAt.add(fleet.decommissionedAt(i));
    }
    List<Stage> actual = j.getStageChangesList().stream().map(StageChange::getTo).toList();
    if (!expected.equals(actual)) {
      out.add(new Mismatch(id, "journey stages", expected.toString(), actual.toString()));
      return;
    }
    if (j.getStage() != expected.get(expected.size() - 1)) {
      out.add(new Mismatch(id, "journey stage", expected.get(expected.size() - 1).toString(), j.getStage().toString()));
    }
    for (int k = 0; k < expected.size(); k++) {
      long at = Timestamps.toMillis(j.getStageChanges(k).getAt());
      Stage to = expected.get(k);
      boolean exact = to == Stage.DAY_60 || to == Stage.DAY_90 || to == Stage.MATURE;
      long allowed = exact ? 0 : toleranceMillis + (to == Stage.END_OF_LIFE ? fleet.decommissionLatency(i) : 0);
      if (Math.abs(at - expectedAt.get(k)) > allowed) {
        out.add(new Mismatch(id, "journey " + to + " at", java.time.Instant.ofEpochMilli(expectedAt.get(k)) + (exact ? "" : " ± " + Duration.ofMillis(allowed)),
            java.time.Instant.ofEpochMilli(at).toString()));
      }
    }
  }
}
