package io.twinfleet.service.api.grpc;

import io.grpc.stub.StreamObserver;
import io.twinfleet.service.Asks;
import io.twinfleet.service.StorageHealth;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.ErrorCode;
import io.twinfleet.service.device.DeviceTwin.Command;
import io.twinfleet.service.device.DeviceTwin.Rejected;
import io.twinfleet.service.device.DeviceTwin.Reply;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/** Asking device twins, as the gRPC services do. */
final class Twins {

  private final Asks asks;
  private final StorageHealth storage;

  Twins(ActorSystem<?> system, GrpcSettings settings) {
    this.asks = new Asks(system, settings.askTimeout());
    this.storage = StorageHealth.get(system);
  }

  /**
   * Asks the twin of {@code deviceId} a command that must store something to succeed: while
   * Cassandra does not answer it is refused at once, without waking a twin that would have to
   * recover from Cassandra first (and time out).
   */
  CompletionStage<Reply> askToStore(String deviceId, Function<ActorRef<Reply>, Command> command) {
    if (storage.down()) {
      return CompletableFuture.completedFuture(new Rejected(ErrorCode.UNAVAILABLE, storage.refusal()));
    }
    return ask(deviceId, command);
  }

  /** Asks the twin of {@code deviceId}; an answer later than the ask timeout fails the stage (UNAVAILABLE). */
  CompletionStage<Reply> ask(String deviceId, Function<ActorRef<Reply>, Command> command) {
    return asks.ask(DeviceTwin.ENTITY_KEY, deviceId, command);
  }

  /** Answers {@code out} with {@code map} of a reply of {@code type}; a twin's rejection, or a failure, as its status. */
  static <A extends Reply, T> void answer(StreamObserver<T> out, Reply reply, Throwable error, Class<A> type, Function<A, T> map) {
    Answers.guarded(out, () -> {
      if (type.isInstance(reply)) {
        T response = map.apply(type.cast(reply));
        out.onNext(response);
        out.onCompleted();
      } else if (reply instanceof Rejected r) {
        out.onError(GrpcErrors.of(r.code(), r.message()));
      } else {
        out.onError(GrpcErrors.from(error != null ? error : new IllegalStateException("unexpected answer " + reply)));
      }
    });
  }
}
