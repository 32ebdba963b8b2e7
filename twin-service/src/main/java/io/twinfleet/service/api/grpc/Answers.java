package io.twinfleet.service.api.grpc;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** Unary answers from asynchronous work: the result made a response, or the status of its failure. */
final class Answers {

  private Answers() {}

  /**
   * Runs {@code body}, a completion callback that answers {@code out}: if it throws, the call ends
   * with the failure's status (INTERNAL, logged) rather than never.
   */
  static void guarded(StreamObserver<?> out, Runnable body) {
    try {
      body.run();
    } catch (RuntimeException e) {
      try {
        out.onError(GrpcErrors.from(e));
      } catch (RuntimeException closed) {
        // the call had ended already
      }
    }
  }

  static <T, R> void answer(CompletionStage<T> stage, StreamObserver<R> out, Function<T, R> response) {
    stage.whenComplete((result, error) -> guarded(out, () -> {
      if (error != null) {
        out.onError(GrpcErrors.from(error));
        return;
      }
      R value = response.apply(result);
      out.onNext(value);
      out.onCompleted();
    }));
  }
}
