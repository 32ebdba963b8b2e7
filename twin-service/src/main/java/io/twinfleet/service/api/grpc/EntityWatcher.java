package io.twinfleet.service.api.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One watch stream (WatchDevice, WatchSite): subscribes to an entity and forwards each changed view
 * to the client.
 *
 * <p>It subscribes again every {@link #RESUBSCRIBE} because an entity forgets its watchers when it
 * moves to another node or is passivated; subscribing is idempotent and answered with the current
 * view, which is sent on only if it differs from the last one sent. Stops, and unsubscribes, when
 * the client cancels ({@link Cancelled}), or when the mapping of a view throws a status (the caller
 * may no longer see the entity), with which the stream then ends.
 */
final class EntityWatcher {

  static final Duration RESUBSCRIBE = Duration.ofSeconds(20);

  /** Tell the watcher that its client cancelled. */
  record Cancelled() {}

  private record Resubscribe() {}

  private static final AtomicLong started = new AtomicLong();

  private EntityWatcher() {}

  /**
   * A watch to start once the call's checks are done. It registers the call's cancel handler at
   * once: gRPC takes one only while the service method runs, not from a callback after it returned.
   */
  static <P> Pending<P> pending(ServerCallStreamObserver<P> call) {
    Pending<P> pending = new Pending<>(call);
    call.setOnCancelHandler(pending::cancel);
    return pending;
  }

  /** A watch whose client may cancel before it starts (then it never does) or after (then it stops). */
  static final class Pending<P> {
    private final ServerCallStreamObserver<P> call;
    private ActorRef<Object> watcher;
    private boolean cancelled;

    private Pending(ServerCallStreamObserver<P> call) {
      this.call = call;
    }

    private synchronized void cancel() {
      cancelled = true;
      if (watcher != null) {
        watcher.tell(new Cancelled());
      }
    }

    /** Starts a watcher of the entity named {@code entity} (for the actor's name) that stops when the client cancels. */
    synchronized <V> void start(ActorSystem<?> system, String entity, Class<V> views, Consumer<ActorRef<Object>> subscribe,
        Consumer<ActorRef<Object>> unsubscribe, Function<V, P> toProto) {
      if (!cancelled) {
        watcher = system.systemActorOf(create(views, subscribe, unsubscribe, toProto, call),
            "watch-" + entity.replaceAll("[^A-Za-z0-9-]", "_") + "-" + started.incrementAndGet(), Props.empty());
      }
    }
  }

  /**
   * @param views the type of the views the entity sends
   * @param subscribe sends the entity its subscribe message for this watcher
   * @param unsubscribe sends the entity its unsubscribe message
   */
  private static <V, P> Behavior<Object> create(Class<V> views, Consumer<ActorRef<Object>> subscribe, Consumer<ActorRef<Object>> unsubscribe,
      Function<V, P> toProto, ServerCallStreamObserver<P> out) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      subscribe.accept(ctx.getSelf());
      timers.startTimerWithFixedDelay(new Resubscribe(), RESUBSCRIBE);
      Object[] last = new Object[1];
      return Behaviors.receive(Object.class)
          .onMessage(views, view -> {
            P p;
            try {
              p = toProto.apply(view);
            } catch (StatusRuntimeException ended) { // the watcher may no longer see the entity
              if (!out.isCancelled()) {
                out.onError(ended);
              }
              unsubscribe.accept(ctx.getSelf());
              return Behaviors.stopped();
            }
            if (!p.equals(last[0]) && !out.isCancelled()) {
              last[0] = p;
              out.onNext(p);
            }
            return Behaviors.same();
          })
          .onMessage(Resubscribe.class, r -> {
            subscribe.accept(ctx.getSelf());
            return Behaviors.same();
          })
          .onMessage(Cancelled.class, c -> {
            unsubscribe.accept(ctx.getSelf());
            return Behaviors.stopped();
          })
          .build();
    }));
  }
}
