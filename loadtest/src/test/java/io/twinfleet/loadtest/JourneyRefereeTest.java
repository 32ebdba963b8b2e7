package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.util.Timestamps;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.protocol.v1.DeviceJourney;
import io.twinfleet.protocol.v1.Stage;
import io.twinfleet.protocol.v1.StageChange;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the journey referee judges one device's journey: stages in order, each at its time. */
class JourneyRefereeTest {

  private static final long T0 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
  private static final long DAY = Duration.ofDays(1).toMillis();
  private static final long TOLERANCE = 30_000;

  /** One device that reports from its activation and never drops, faults, upgrades or retires. */
  private static Fleet activatedDevice() {
    Fleet f = TestFleets.quietDevice();
    long first = f.claimed(0, T0);
    f.step(0, first, false);
    return f;
  }

  private static DeviceJourney journey(Stage stage, long activatedAt, Object... toAndAt) {
    DeviceJourney.Builder b = DeviceJourney.newBuilder().setStage(stage).setActivatedAt(Timestamps.fromMillis(activatedAt));
    Stage from = Stage.UNCLAIMED;
    for (int k = 0; k < toAndAt.length; k += 2) {
      Stage to = (Stage) toAndAt[k];
      b.addStageChanges(StageChange.newBuilder().setFrom(from).setTo(to).setAt(Timestamps.fromMillis((Long) toAndAt[k + 1])));
      from = to;
    }
    return b.build();
  }

  private static List<Referee.Mismatch> judge(Fleet f, DeviceJourney j, long t) {
    List<Referee.Mismatch> out = new ArrayList<>();
    new JourneyReferee(f, ServiceTime.fixed(Instant.ofEpochMilli(T0), 1), null, TOLERANCE, 0).compare(0, j, t, out);
    return out;
  }

  @Test
  void aJourneyPastNinetyDaysHasEveryStageAtItsMilestone() {
    Fleet f = activatedDevice();
    long a = f.activatedAt(0);
    long t = a + 95 * DAY;
    DeviceJourney right = journey(Stage.MATURE, a, Stage.ONBOARDING, T0, Stage.DAY_30, a, Stage.DAY_60, a + 30 * DAY,
        Stage.DAY_90, a + 60 * DAY, Stage.MATURE, a + 90 * DAY);
    assertEquals(List.of(), judge(f, right, t));

    DeviceJourney lateClaim = journey(Stage.MATURE, a, Stage.ONBOARDING, T0 + TOLERANCE / 2, Stage.DAY_30, a, Stage.DAY_60, a + 30 * DAY,
        Stage.DAY_90, a + 60 * DAY, Stage.MATURE, a + 90 * DAY);
    assertEquals(List.of(), judge(f, lateClaim, t), "the claim's time is known to within the tolerance");
  }

  @Test
  void aMissingStageOrAMilestoneOffByAMillisecondIsAMismatch() {
    Fleet f = activatedDevice();
    long a = f.activatedAt(0);
    long t = a + 95 * DAY;
    DeviceJourney skipped = journey(Stage.MATURE, a, Stage.ONBOARDING, T0, Stage.DAY_30, a, Stage.DAY_60, a + 30 * DAY, Stage.MATURE, a + 90 * DAY);
    assertEquals(List.of("journey stages"), judge(f, skipped, t).stream().map(Referee.Mismatch::field).toList());
    DeviceJourney offByOne = journey(Stage.MATURE, a, Stage.ONBOARDING, T0, Stage.DAY_30, a, Stage.DAY_60, a + 30 * DAY + 1,
        Stage.DAY_90, a + 60 * DAY, Stage.MATURE, a + 90 * DAY);
    assertEquals(List.of("journey DAY_60 at"), judge(f, offByOne, t).stream().map(Referee.Mismatch::field).toList());
    DeviceJourney claimTooEarly = journey(Stage.MATURE, a, Stage.ONBOARDING, T0 - 2 * TOLERANCE, Stage.DAY_30, a, Stage.DAY_60, a + 30 * DAY,
        Stage.DAY_90, a + 60 * DAY, Stage.MATURE, a + 90 * DAY);
    assertEquals(List.of("journey ONBOARDING at"), judge(f, claimTooEarly, t).stream().map(Referee.Mismatch::field).toList());
  }
}
