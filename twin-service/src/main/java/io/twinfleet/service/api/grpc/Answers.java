package io.twinfleet.service.api.grpc;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** Unary answers from asynchronous work: the result made a response, or the status of its failure. */
final class Answers {

  private Answers() {}

  static <T, R> void answer(CompletionStage<T> stage, StreamObserver<R> out, Function<T, R> response) {
    stage.whenComplete((result, error) -> {
      if (error != null) {
        out.onError(GrpcErrors.from(error));
        return;
      }
      R value;
      try {
        value = response.apply(result);
      } catch (RuntimeException e) {
        out.onError(GrpcErrors.from(e));
        return;
      }
      out.onNext(value);
      out.onCompleted();
    });
  }
}
