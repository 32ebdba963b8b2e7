package io.twinfleet.service.device;

import io.twinfleet.persistence.readmodel.StageMilestonesRepository;
import io.twinfleet.service.ServiceClock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Moves journey stages on time whether or not their twins are awake: every few seconds (real
 * time) it reads the milestones fallen due since it last looked from {@code stage_milestones} and
 * sends each device's twin a {@link DeviceTwin.Reconcile}, which wakes a sleeping twin and stores
 * the stage change at its exact milestone. One per cluster (a singleton); it stores how far it has
 * come, so a restart or a move to another node resumes there. It looks again over the last few
 * seconds of real time (at least ten simulated minutes), for milestones whose rows were written
 * while it looked; each milestone is sent once per incarnation. Milestones scheduled after they
 * fell due (a projection catching up) are woken by the projection itself.
 */
public final class MilestoneScheduler {

  public static final String NAME = "stage-milestones";

  /** How far back to look again: five seconds of real time, and at least ten simulated minutes. */
  static Duration overlap(ServiceClock clock) {
    Duration fiveSeconds = clock.serviceTime(Duration.ofSeconds(5));
    Duration tenMinutes = Duration.ofMinutes(10);
    return fiveSeconds.compareTo(tenMinutes) > 0 ? fiveSeconds : tenMinutes;
  }

  sealed interface Message {}

  private record Resume(Instant doneUntil) implements Message {}

  private record Tick() implements Message {}

  private record Done(Instant doneUntil, int reconciled) implements Message {}

  private record Failed(Throwable error) implements Message {}

  private MilestoneScheduler() {}

  /** Starts the singleton on this node's cluster. */
  public static void init(ActorSystem<?> system, StageMilestonesRepository milestones, ServiceClock clock) {
    ClusterSingleton.get(system).init(SingletonActor.of(create(milestones, ClusterSharding.get(system), clock), NAME));
  }

  /** How often to look: every ten simulated minutes, but no more often than twice a second and at least every 5 s. */
  static Duration interval(ServiceClock clock) {
    Duration real = clock.realDelay(Duration.ofMinutes(10));
    Duration floor = Duration.ofMillis(500);
    Duration ceiling = Duration.ofSeconds(5);
    return real.compareTo(floor) < 0 ? floor : real.compareTo(ceiling) > 0 ? ceiling : real;
  }

  static Behavior<Message> create(StageMilestonesRepository milestones, ClusterSharding sharding, ServiceClock clock) {
    Behavior<Message> scheduler = Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.pipeToSelf(milestones.progress(NAME), (progress, error) ->
          error != null ? new Failed(error) : new Resume(progress.orElse(clock.instant())));
      return starting(ctx, timers, new Sent(), milestones, sharding, clock);
    }));
    return Behaviors.supervise(scheduler)
        .onFailure(Exception.class, SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2));
  }

  /** The milestones sent lately, so looking again does not send them twice; pruned as they age out of the overlap. */
  private static final class Sent {
    private final Map<String, Instant> due = new ConcurrentHashMap<>();

    /** True the first time a milestone is offered. */
    boolean first(StageMilestonesRepository.Milestone m) {
      return due.putIfAbsent(m.deviceId() + "@" + m.due().toEpochMilli(), m.due()) == null;
    }

    void forgetBefore(Instant t) {
      due.values().removeIf(d -> d.isBefore(t));
    }
  }

  private static Behavior<Message> starting(ActorContext<Message> ctx, TimerScheduler<Message> timers, Sent sent,
      StageMilestonesRepository milestones, ClusterSharding sharding, ServiceClock clock) {
    return Behaviors.receive(Message.class)
        .onMessage(Resume.class, r -> {
          timers.startTimerWithFixedDelay(new Tick(), interval(clock));
          return idle(ctx, sent, milestones, sharding, clock, r.doneUntil());
        })
        .onMessage(Failed.class, f -> {
          // Storage not ready yet: restart, after a back-off, and read it again.
          throw new IllegalStateException("cannot read the milestone scheduler's progress", f.error());
        })
        .build();
  }

  private static Behavior<Message> idle(ActorContext<Message> ctx, Sent sent, StageMilestonesRepository milestones,
      ClusterSharding sharding, ServiceClock clock, Instant doneUntil) {
    return Behaviors.receive(Message.class)
        .onMessage(Tick.class, t -> {
          if (CoordinatedShutdown.get(ctx.getSystem()).getShutdownReason().isPresent()) {
            // The node is stopping: a reconcile now would wait in the Device shard region, which
            // cannot hand off while messages wait (a whole fleet's would hold the stop up for the
            // phase's timeout). Nothing is lost: progress stays here, and the next incarnation
            // resumes from it.
            return Behaviors.same();
          }
          Instant now = clock.instant();
          Instant from = doneUntil.minus(overlap(clock));
          sent.forgetBefore(from);
          ctx.pipeToSelf(reconcileDue(milestones, sharding, sent, from, now), (n, error) ->
              error != null ? new Failed(error) : new Done(now, n));
          return working(ctx, sent, milestones, sharding, clock, doneUntil);
        })
        .build();
  }

  private static Behavior<Message> working(ActorContext<Message> ctx, Sent sent, StageMilestonesRepository milestones,
      ClusterSharding sharding, ServiceClock clock, Instant doneUntil) {
    return Behaviors.receive(Message.class)
        .onMessage(Tick.class, t -> Behaviors.same()) // still at the last one
        .onMessage(Done.class, d -> {
          if (d.reconciled() > 0) {
            ctx.getLog().debug("{} due milestones handed to their twins, up to {}", d.reconciled(), d.doneUntil());
          }
          milestones.saveProgress(NAME, d.doneUntil()).whenComplete((ok, error) -> {
            if (error != null) {
              // Only costs looking again from an older point after a restart.
              ctx.getSystem().log().warn("Could not store how far the milestone scheduler got: {}", error.toString());
            }
          });
          return idle(ctx, sent, milestones, sharding, clock, d.doneUntil());
        })
        .onMessage(Failed.class, f -> {
          ctx.getLog().warn("Milestones could not be read; trying again from {}: {}", doneUntil, f.error().toString());
          return idle(ctx, sent, milestones, sharding, clock, doneUntil);
        })
        .build();
  }

  /**
   * Sends a reconcile to every twin with a milestone due in {@code (after, until]} not sent yet;
   * completes with how many were sent.
   */
  private static CompletionStage<Integer> reconcileDue(StageMilestonesRepository milestones, ClusterSharding sharding, Sent sent,
      Instant after, Instant until) {
    AtomicInteger count = new AtomicInteger();
    CompletionStage<Integer> done = CompletableFuture.completedFuture(0);
    for (Instant hour = StageMilestonesRepository.hourOf(after); !hour.isAfter(until); hour = hour.plus(1, ChronoUnit.HOURS)) {
      Instant h = hour;
      done = done.thenCompose(n -> milestones.forEachDue(h, after, until, m -> {
        if (sent.first(m)) {
          DeviceTwin.reconcile(sharding, m.deviceId());
          count.incrementAndGet();
        }
      }));
    }
    return done.thenApply(n -> count.get());
  }
}
