package io.twinfleet.service.api.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.twinfleet.service.ServiceClock;

/**
 * The two headers every call may carry besides its message.
 *
 * <p>Out: {@code twinfleet-clock} on every response (in its headers, or in the trailers of a call
 * that fails at once), the service clock and its speed (for example
 * {@code 2026-11-29T17:00:00.123Z speed=720}). Devices and simulators stamp readings with the
 * service's time, which on an accelerated clock they cannot know any other way.
 *
 * <p>In: {@code twinfleet-sink: baseline} on a {@code ReportStream} routes its readings to a
 * sharded entity that does nothing, to measure what transport and routing alone allow.
 */
final class ServiceHeaders implements ServerInterceptor {

  static final Metadata.Key<String> CLOCK = Metadata.Key.of("twinfleet-clock", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> SINK = Metadata.Key.of("twinfleet-sink", Metadata.ASCII_STRING_MARSHALLER);
  /** The {@code twinfleet-sink} header of the current call, or null. */
  static final Context.Key<String> REQUESTED_SINK = Context.key("twinfleet-sink");

  private final ServiceClock clock;

  ServiceHeaders(ServiceClock clock) {
    this.clock = clock;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    ServerCall<Q, R> stamped = new SimpleForwardingServerCall<>(call) {
      private boolean stamped;

      @Override
      public void sendHeaders(Metadata responseHeaders) {
        stamp(responseHeaders);
        super.sendHeaders(responseHeaders);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        stamp(trailers); // a call that fails before any message sends trailers only
        super.close(status, trailers);
      }

      private void stamp(Metadata m) {
        if (!stamped) {
          stamped = true;
          m.put(CLOCK, clock.instant() + " speed=" + clock.speed());
        }
      }
    };
    String sink = headers.get(SINK);
    if (sink == null) {
      return next.startCall(stamped, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(REQUESTED_SINK, sink), stamped, headers, next);
  }
}
