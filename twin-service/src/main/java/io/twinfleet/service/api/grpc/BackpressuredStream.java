package io.twinfleet.service.api.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Sends a Pekko stream to a gRPC server stream at the client's pace: one element is pulled only
 * when gRPC says the client can take it (flow control), so a slow client slows the source instead
 * of filling memory. The client cancelling cancels the source; the source failing ends the call
 * with the matching status.
 */
final class BackpressuredStream<T, P> {

  private final ServerCallStreamObserver<P> out;
  private final SinkQueueWithCancel<T> queue;
  private final Function<T, P> toProto;
  private final Executor executor;
  private final AtomicBoolean pulling = new AtomicBoolean();
  private final AtomicBoolean ended = new AtomicBoolean();

  private BackpressuredStream(ServerCallStreamObserver<P> out, SinkQueueWithCancel<T> queue, Function<T, P> toProto, Executor executor) {
    this.out = out;
    this.queue = queue;
    this.toProto = toProto;
    this.executor = executor;
  }

  /** Runs {@code source} into {@code out}, converting each element with {@code toProto}. */
  static <T, P> void run(ActorSystem<?> system, Source<T, ?> source, ServerCallStreamObserver<P> out, Function<T, P> toProto) {
    SinkQueueWithCancel<T> queue = source.runWith(Sink.queue(1), system);
    BackpressuredStream<T, P> stream = new BackpressuredStream<>(out, queue, toProto, system.executionContext());
    out.setOnCancelHandler(() -> {
      stream.ended.set(true);
      queue.cancel();
    });
    out.setOnReadyHandler(stream::pump);
    stream.pump();
  }

  /** Pulls the next element if the client is ready and no pull is under way. */
  private void pump() {
    if (ended.get() || !out.isReady() || !pulling.compareAndSet(false, true)) {
      return; // gRPC calls again when the client is ready; a pull under way calls again when done
    }
    queue.pull().whenCompleteAsync((next, error) -> {
      if (ended.get()) {
        return;
      }
      try {
        if (error != null) {
          end();
          out.onError(GrpcErrors.from(error));
        } else if (next.isEmpty()) {
          end();
          out.onCompleted();
        } else {
          out.onNext(toProto.apply(next.get()));
          pulling.set(false);
          pump();
        }
      } catch (RuntimeException e) { // the call went away meanwhile, or an element would not convert
        if (!ended.get()) {
          end();
          try {
            out.onError(GrpcErrors.from(e));
          } catch (RuntimeException alreadyClosed) {
            // nothing left to tell
          }
        }
      }
    }, executor);
  }

  private void end() {
    ended.set(true);
    queue.cancel();
  }
}
