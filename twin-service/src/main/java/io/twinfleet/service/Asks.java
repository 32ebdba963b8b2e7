package io.twinfleet.service;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Asking sharded entities from outside an actor. The answer of Pekko's Java ask runs every callback
 * asynchronously on the JVM's common pool, which on one or two cores is no pool at all but a new
 * thread per callback (thousands a second under load); here the callbacks run on the actor system's
 * dispatcher instead, answers and failures (timeouts) alike.
 */
public final class Asks {

  private final ClusterSharding sharding;
  private final ActorSystem<?> system;
  private final Duration timeout;

  public Asks(ActorSystem<?> system, Duration timeout) {
    this.sharding = ClusterSharding.get(system);
    this.system = system;
    this.timeout = timeout;
  }

  /** Asks entity {@code id} of {@code type}; an answer later than the timeout fails the stage. */
  public <C, R> CompletionStage<R> ask(EntityTypeKey<C> type, String id, Function<ActorRef<R>, C> command) {
    CompletableFuture<R> hopped = new CompletableFuture<>();
    sharding.entityRefFor(type, id).<R>ask(command::apply, timeout).whenCompleteAsync((answer, error) -> {
      if (error != null) {
        hopped.completeExceptionally(error);
      } else {
        hopped.complete(answer);
      }
    }, system.executionContext());
    return hopped;
  }
}
