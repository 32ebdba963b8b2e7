package io.twinfleet.loadtest;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The service's clock as seen from the client. Every response carries the header {@code
 * twinfleet-clock} (the service's time and speed); one health check reads it, and from then on the
 * client extrapolates with its own monotonic clock. On an accelerated clock this is the only way a
 * simulated device can stamp its readings with a time the service accepts.
 */
public final class ServiceTime {

  private static final Metadata.Key<String> CLOCK = Metadata.Key.of("twinfleet-clock", Metadata.ASCII_STRING_MARSHALLER);

  private final long originMillis;
  private final long originNanos;
  private final double speed;

  private ServiceTime(long originMillis, long originNanos, double speed) {
    this.originMillis = originMillis;
    this.originNanos = originNanos;
    this.speed = speed;
  }

  /**
   * Reads the service's clock over {@code channel}: a few health checks, keeping the one with the
   * shortest round trip (the first also sets up the connection) and taking its midpoint.
   */
  public static ServiceTime sync(Channel channel) {
    ServiceTime best = null;
    long bestRoundTrip = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long sent = System.nanoTime();
      String value = clockHeader(channel);
      long received = System.nanoTime();
      if (value == null || !value.contains(" speed=")) {
        throw new IllegalStateException("the service did not send its clock (header twinfleet-clock): is it a Twinfleet service?");
      }
      if (received - sent < bestRoundTrip) {
        bestRoundTrip = received - sent;
        String[] parts = value.split(" speed=");
        best = new ServiceTime(Instant.parse(parts[0]).toEpochMilli(), sent + (received - sent) / 2, Double.parseDouble(parts[1]));
      }
    }
    return best;
  }

  private static String clockHeader(Channel channel) {
    AtomicReference<String> header = new AtomicReference<>();
    ClientInterceptor capture = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(new SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onHeaders(Metadata h) {
                header.set(h.get(CLOCK));
                super.onHeaders(h);
              }
            }, headers);
          }
        };
      }
    };
    HealthGrpc.newBlockingStub(ClientInterceptors.intercept(channel, capture))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    return header.get();
  }

  /** A clock for tests and offline use: starts at {@code origin} now and runs at {@code speed}. */
  public static ServiceTime fixed(Instant origin, double speed) {
    return new ServiceTime(origin.toEpochMilli(), System.nanoTime(), speed);
  }

  /** The service's time now, in epoch milliseconds. */
  public long nowMillis() {
    return originMillis + (long) ((System.nanoTime() - originNanos) / 1e6 * speed);
  }

  public double speed() {
    return speed;
  }

  /** Simulated milliseconds in {@code realMillis} of real time. */
  public long simulated(long realMillis) {
    return (long) (realMillis * speed);
  }
}
