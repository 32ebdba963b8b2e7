package io.twinfleet.service.api.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.service.device.ErrorCode;
import io.twinfleet.service.device.Validation.InvalidField;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place where failures become gRPC statuses. */
final class GrpcErrors {

  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

  private GrpcErrors() {}

  static StatusRuntimeException of(ErrorCode code, String message) {
    return status(code).withDescription(message).asRuntimeException();
  }

  static Status status(ErrorCode code) {
    return switch (code) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> Status.UNAVAILABLE;
    };
  }

  /**
   * Validation failures are INVALID_ARGUMENT; a twin or storage that did not answer in time is
   * UNAVAILABLE (safe to retry); anything else is INTERNAL and logged.
   */
  static StatusRuntimeException from(Throwable t) {
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (cause instanceof StatusRuntimeException s) {
      return s;
    }
    if (cause instanceof InvalidField f) {
      return Status.INVALID_ARGUMENT.withDescription(f.getMessage()).asRuntimeException();
    }
    if (cause instanceof TimeoutException) {
      return Status.UNAVAILABLE.withDescription("the twin did not answer in time; safe to retry").asRuntimeException();
    }
    if (cause.getClass().getName().startsWith("com.datastax.oss.driver.api.core")) {
      return Status.UNAVAILABLE.withDescription("storage unavailable: " + cause.getMessage()).asRuntimeException();
    }
    log.error("unexpected failure", cause);
    return Status.INTERNAL.withDescription("internal error").asRuntimeException();
  }
}
