package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StagesTest {

  private static final Instant CLAIMED = Instant.parse("2026-03-01T10:00:00Z");
  private static final Instant ACTIVATED = Instant.parse("2026-03-02T12:00:00Z");
  private static final Duration NANO = Duration.ofNanos(1);

  private static Stage at(Duration sinceActivation) {
    return Stages.stageAt(CLAIMED, ACTIVATED, null, ACTIVATED.plus(sinceActivation));
  }

  @Test
  void unclaimedDeviceHasNoJourneyYet() {
    assertEquals(Stage.UNCLAIMED, Stages.stageAt(null, null, null, ACTIVATED));
  }

  @Test
  void claimedButSilentDeviceIsOnboarding() {
    assertEquals(Stage.ONBOARDING, Stages.stageAt(CLAIMED, null, null, CLAIMED.plus(Duration.ofDays(400))));
  }

  @Test
  void stageBoundariesFallExactlyOn30_60And90Days() {
    assertEquals(Stage.DAY_30, at(Duration.ZERO));
    assertEquals(Stage.DAY_30, at(Duration.ofDays(30).minus(NANO)));
    assertEquals(Stage.DAY_60, at(Duration.ofDays(30)));
    assertEquals(Stage.DAY_60, at(Duration.ofDays(60).minus(NANO)));
    assertEquals(Stage.DAY_90, at(Duration.ofDays(60)));
    assertEquals(Stage.DAY_90, at(Duration.ofDays(90).minus(NANO)));
    assertEquals(Stage.MATURE, at(Duration.ofDays(90)));
    assertEquals(Stage.MATURE, at(Duration.ofDays(3650)));
  }

  @Test
  void endOfLifeBeginsExactlyAtItsTimeWhateverTheOtherDates() {
    Instant end = ACTIVATED.plus(Duration.ofDays(5));
    assertEquals(Stage.DAY_30, Stages.stageAt(CLAIMED, ACTIVATED, end, end.minus(NANO)));
    assertEquals(Stage.END_OF_LIFE, Stages.stageAt(CLAIMED, ACTIVATED, end, end));
    assertEquals(Stage.END_OF_LIFE, Stages.stageAt(CLAIMED, ACTIVATED, end, end.plus(Duration.ofDays(400))));
    assertEquals(Stage.END_OF_LIFE, Stages.stageAt(CLAIMED, null, CLAIMED, CLAIMED), "ended at its claim: never onboarding");
    assertEquals(Stage.END_OF_LIFE, Stages.stageAt(null, null, ACTIVATED, ACTIVATED), "retired from the shelf");
  }

  @Test
  void nextMilestoneIsTheNextBoundaryAndNoneOnceMature() {
    assertEquals(ACTIVATED.plus(Duration.ofDays(30)), Stages.nextMilestone(ACTIVATED, ACTIVATED).orElseThrow());
    assertEquals(ACTIVATED.plus(Duration.ofDays(60)), Stages.nextMilestone(ACTIVATED, ACTIVATED.plus(Duration.ofDays(30))).orElseThrow());
    assertTrue(Stages.nextMilestone(ACTIVATED, ACTIVATED.plus(Duration.ofDays(90))).isEmpty());
  }

  @Test
  void aLongSleepYieldsOneTransitionPerBoundaryAtItsMilestone() {
    List<Stages.Transition> t = Stages.timeDrivenTransitions(Stage.DAY_30, ACTIVATED, ACTIVATED.plus(Duration.ofDays(75)));
    assertEquals(List.of(
        new Stages.Transition(Stage.DAY_30, Stage.DAY_60, ACTIVATED.plus(Duration.ofDays(30))),
        new Stages.Transition(Stage.DAY_60, Stage.DAY_90, ACTIVATED.plus(Duration.ofDays(60)))), t);
    assertTrue(Stages.timeDrivenTransitions(Stage.DAY_90, ACTIVATED, ACTIVATED.plus(Duration.ofDays(75))).isEmpty());
  }

  // ---- history ----

  private static Stages.Transition change(Stage from, Stage to, Instant at) {
    return new Stages.Transition(from, to, at);
  }

  @Test
  void historyOfAnUnclaimedDeviceIsEmpty() {
    assertEquals(List.of(), Stages.history(null, null, null, ACTIVATED));
  }

  @Test
  void historyWalksEveryMilestoneReachedAtItsExactTime() {
    Instant day = ACTIVATED.plus(Duration.ofDays(1));
    assertEquals(List.of(change(Stage.UNCLAIMED, Stage.ONBOARDING, CLAIMED), change(Stage.ONBOARDING, Stage.DAY_30, ACTIVATED)),
        Stages.history(CLAIMED, ACTIVATED, null, day));
    Instant d60 = ACTIVATED.plus(Duration.ofDays(60));
    assertEquals(List.of(
            change(Stage.UNCLAIMED, Stage.ONBOARDING, CLAIMED),
            change(Stage.ONBOARDING, Stage.DAY_30, ACTIVATED),
            change(Stage.DAY_30, Stage.DAY_60, ACTIVATED.plus(Duration.ofDays(30))),
            change(Stage.DAY_60, Stage.DAY_90, d60)),
        Stages.history(CLAIMED, ACTIVATED, null, d60), "a milestone reached exactly now is in");
  }

  @Test
  void retirementEndsTheHistoryAfterTheMilestonesPassedByThen() {
    Instant retired = ACTIVATED.plus(Duration.ofDays(45));
    assertEquals(List.of(
            change(Stage.UNCLAIMED, Stage.ONBOARDING, CLAIMED),
            change(Stage.ONBOARDING, Stage.DAY_30, ACTIVATED),
            change(Stage.DAY_30, Stage.DAY_60, ACTIVATED.plus(Duration.ofDays(30))),
            change(Stage.DAY_60, Stage.END_OF_LIFE, retired)),
        Stages.history(CLAIMED, ACTIVATED, retired, retired.plus(Duration.ofDays(400))), "nothing after retirement");
    assertEquals(List.of(change(Stage.UNCLAIMED, Stage.ONBOARDING, CLAIMED), change(Stage.ONBOARDING, Stage.END_OF_LIFE, ACTIVATED)),
        Stages.history(CLAIMED, null, ACTIVATED, ACTIVATED), "retired before its first report");
    assertEquals(List.of(change(Stage.UNCLAIMED, Stage.END_OF_LIFE, CLAIMED)),
        Stages.history(null, null, CLAIMED, CLAIMED), "retired from the shelf");
  }

  @Test
  void anEndOfLifeBeforeTheFirstReportMeansNoActiveStageAndOneAtTheSameMomentComesAfterIt() {
    Instant end = CLAIMED.plus(Duration.ofDays(3));
    assertEquals(List.of(change(Stage.UNCLAIMED, Stage.ONBOARDING, CLAIMED), change(Stage.ONBOARDING, Stage.END_OF_LIFE, end)),
        Stages.history(CLAIMED, end.plus(Duration.ofDays(1)), end, end.plus(Duration.ofDays(9))), "activated after its end");
    assertEquals(List.of(
            change(Stage.UNCLAIMED, Stage.ONBOARDING, CLAIMED),
            change(Stage.ONBOARDING, Stage.DAY_30, end),
            change(Stage.DAY_30, Stage.END_OF_LIFE, end)),
        Stages.history(CLAIMED, end, end, end), "activated at the moment its life ends");
  }

  @Test
  void anEndOfLifeStillAheadIsNotInTheHistoryYet() {
    Instant now = ACTIVATED.plus(Duration.ofDays(10));
    assertEquals(List.of(change(Stage.UNCLAIMED, Stage.ONBOARDING, CLAIMED), change(Stage.ONBOARDING, Stage.DAY_30, ACTIVATED)),
        Stages.history(CLAIMED, ACTIVATED, now.plus(NANO), now));
  }
}
