package io.twinfleet.service;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * Part of {@code /ready}: the node's gRPC server is listening. The management endpoint starts
 * first, so without it a node looked ready (Up member, shard region registered) while clients
 * sent to it were still refused their connection.
 */
public final class GrpcReadiness implements Supplier<CompletionStage<Boolean>> {

  /** Whether this system's gRPC server is listening. */
  static final class Serving implements Extension {
    private final AtomicBoolean listening = new AtomicBoolean();

    private static final ExtensionId<Serving> ID = new ExtensionId<>() {
      @Override
      public Serving createExtension(ActorSystem<?> system) {
        return new Serving();
      }
    };

    static Serving get(ActorSystem<?> system) {
      return ID.apply(system);
    }

    void listening() {
      listening.set(true);
    }
  }

  private final Serving serving;

  /** Made by Pekko Management from the readiness-checks setting. */
  public GrpcReadiness(org.apache.pekko.actor.ActorSystem system) {
    this.serving = Serving.get(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(serving.listening.get());
  }
}
