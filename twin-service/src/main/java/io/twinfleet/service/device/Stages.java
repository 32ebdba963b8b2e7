package io.twinfleet.service.device;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The journey stage rules, as pure functions of the milestones and a time.
 *
 * <p>UNCLAIMED until a customer claims the device; ONBOARDING from the claim until activation (its
 * first report after the claim); then by time since activation DAY_30 (&lt; 30 days), DAY_60
 * (&lt; 60), DAY_90 (&lt; 90) and MATURE; END_OF_LIFE from the end of its useful life (see {@link
 * Lifetimes}) or its retirement, whichever comes first, for good. A device whose end of life came
 * before its first report is activated without a stage change; one activated at the very moment
 * its life ends is activated first.
 */
public final class Stages {

  /** Days after activation at which DAY_60, DAY_90 and MATURE begin. */
  private static final int[] BOUNDARY_DAYS = {30, 60, 90};

  private static final Stage[] ACTIVE_STAGES = {Stage.DAY_30, Stage.DAY_60, Stage.DAY_90, Stage.MATURE};

  private Stages() {}

  /**
   * The stage at {@code now}; {@code claimedAt}, {@code activatedAt} and {@code endOfLifeAt} may be
   * null. The last change of {@link #history}, so the two can never disagree.
   */
  public static Stage stageAt(Instant claimedAt, Instant activatedAt, Instant endOfLifeAt, Instant now) {
    List<Transition> changes = history(claimedAt, activatedAt, endOfLifeAt, now);
    return changes.isEmpty() ? Stage.UNCLAIMED : changes.get(changes.size() - 1).to();
  }

  /** When an active stage begins for a device activated at {@code activatedAt}. */
  public static Instant activeStageStart(Stage stage, Instant activatedAt) {
    for (int i = 0; i < ACTIVE_STAGES.length; i++) {
      if (ACTIVE_STAGES[i] == stage) {
        return i == 0 ? activatedAt : activatedAt.plus(Duration.ofDays(BOUNDARY_DAYS[i - 1]));
      }
    }
    throw new IllegalArgumentException(stage + " is not reached by time since activation");
  }

  /** Every time-driven milestone of a device activated at {@code activatedAt}. */
  public static List<Instant> milestones(Instant activatedAt) {
    List<Instant> all = new ArrayList<>(BOUNDARY_DAYS.length);
    for (int days : BOUNDARY_DAYS) {
      all.add(activatedAt.plus(Duration.ofDays(days)));
    }
    return all;
  }

  /** The next milestone after {@code now} for a device activated at {@code activatedAt}, if any. */
  public static Optional<Instant> nextMilestone(Instant activatedAt, Instant now) {
    int passed = boundariesPassed(activatedAt, now);
    return passed < BOUNDARY_DAYS.length
        ? Optional.of(activatedAt.plus(Duration.ofDays(BOUNDARY_DAYS[passed])))
        : Optional.empty();
  }

  /**
   * The stage changes time alone caused between {@code from} (an active stage) and {@code now}, one
   * per boundary crossed, each at its exact milestone.
   */
  public static List<Transition> timeDrivenTransitions(Stage from, Instant activatedAt, Instant now) {
    List<Transition> transitions = new ArrayList<>(1);
    Stage current = from;
    for (int i = indexOf(from) + 1; i <= boundariesPassed(activatedAt, now); i++) {
      Stage next = ACTIVE_STAGES[i];
      transitions.add(new Transition(current, next, activeStageStart(next, activatedAt)));
      current = next;
    }
    return transitions;
  }

  /**
   * Every stage change of a device up to {@code now}, oldest first, from its milestones: claimed at
   * {@code claimedAt}, activated at {@code activatedAt}, at its end of life (by time or retirement)
   * at {@code endOfLifeAt} (each may be null; an end of life after {@code now} is ignored). These are
   * the changes its twin stores as events, and also those due but not stored yet, as the view shows
   * them.
   */
  public static List<Transition> history(Instant claimedAt, Instant activatedAt, Instant endOfLifeAt, Instant now) {
    List<Transition> changes = new ArrayList<>(6);
    Stage current = Stage.UNCLAIMED;
    if (claimedAt != null) {
      changes.add(new Transition(current, Stage.ONBOARDING, claimedAt));
      current = Stage.ONBOARDING;
    }
    Instant end = endOfLifeAt != null && endOfLifeAt.isBefore(now) ? endOfLifeAt : now;
    if (activatedAt != null && !activatedAt.isAfter(end)) {
      changes.add(new Transition(current, Stage.DAY_30, activatedAt));
      List<Transition> timed = timeDrivenTransitions(Stage.DAY_30, activatedAt, end);
      changes.addAll(timed);
      current = timed.isEmpty() ? Stage.DAY_30 : timed.get(timed.size() - 1).to();
    }
    if (endOfLifeAt != null && !endOfLifeAt.isAfter(now)) {
      changes.add(new Transition(current, Stage.END_OF_LIFE, endOfLifeAt));
    }
    return changes;
  }

  /** One stage change: from, to and when. */
  public record Transition(Stage from, Stage to, Instant at) {}

  private static int indexOf(Stage stage) {
    for (int i = 0; i < ACTIVE_STAGES.length; i++) {
      if (ACTIVE_STAGES[i] == stage) {
        return i;
      }
    }
    throw new IllegalArgumentException(stage + " is not an active stage");
  }

  private static int boundariesPassed(Instant activatedAt, Instant now) {
    int passed = 0;
    for (int days : BOUNDARY_DAYS) {
      if (!now.isBefore(activatedAt.plus(Duration.ofDays(days)))) {
        passed++;
      }
    }
    return passed;
  }
}
