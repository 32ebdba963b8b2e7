package io.twinfleet.service.api.grpc;

import io.twinfleet.service.ServiceClock;
import io.grpc.BindableService;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.twinfleet.service.ServiceMetrics;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC endpoint: the Twinfleet services plus the standard health and reflection services.
 * Handlers never block, so calls run on the transport threads (direct executor). The same
 * services, behind the same interceptors, are also served in process, for the dashboard's JSON
 * calls ({@link #localChannel}). Every call is metered by method and status. Stopped by
 * CoordinatedShutdown: health goes NOT_SERVING, then shutdown, await, shutdownNow.
 */
public final class GrpcServer {

  private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

  /** A PEM certificate chain and its PEM (PKCS#8) private key. */
  public record Tls(Path certChain, Path privateKey) {}

  private final Server server;
  private final Server local;
  private final ManagedChannel localChannel;
  private final HealthStatusManager health;

  /**
   * gRPC logs a stack trace (java.util.logging, WARNING) for every inbound message it cannot take,
   * e.g. one over max-inbound-message-size: the client already gets its status, and a client could
   * fill the log with them. Kept here so the setting is not collected with a weakly held logger.
   */
  private static final java.util.logging.Logger DEFRAME_FAILURES =
      java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerStream");

  static {
    DEFRAME_FAILURES.setLevel(java.util.logging.Level.SEVERE);
  }

  private GrpcServer(Server server, Server local, ManagedChannel localChannel, HealthStatusManager health) {
    this.server = server;
    this.local = local;
    this.localChannel = localChannel;
    this.health = health;
  }

  /** Starts the endpoint; with {@code tls} (a certificate chain and its key, PEM) it speaks TLS only. */
  public static GrpcServer start(ActorSystem<?> system, GrpcSettings settings, ServiceClock clock, ServerInterceptor auth,
      Optional<Tls> tls, List<BindableService> services) {
    HealthStatusManager health = new HealthStatusManager();
    ServerInterceptor metered = new MetricCollectingServerInterceptor(ServiceMetrics.get(system).registry());
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(settings.host(), settings.port()));
    withServices(builder, settings, clock, auth, metered, services)
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
    if (tls.isPresent()) {
      try {
        builder.sslContext(GrpcSslContexts.forServer(tls.get().certChain().toFile(), tls.get().privateKey().toFile()).build());
      } catch (SSLException | IllegalArgumentException e) {
        throw new IllegalArgumentException("TLS: cannot use " + tls.get().certChain() + " and " + tls.get().privateKey() + ": " + e.getMessage(), e);
      }
    }
    Server server;
    try {
      server = builder.build().start();
    } catch (IOException e) {
      throw new UncheckedIOException("gRPC could not listen on " + settings.host() + ":" + settings.port(), e);
    }
    String localName = "twinfleet-" + UUID.randomUUID();
    Server local;
    try {
      local = withServices(InProcessServerBuilder.forName(localName), settings, clock, auth, metered, services).build().start();
    } catch (IOException e) {
      server.shutdownNow();
      throw new UncheckedIOException("the in-process gRPC server did not start", e);
    }
    for (BindableService s : services) {
      health.setStatus(s.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
    }
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
    GrpcServer running = new GrpcServer(server, local, InProcessChannelBuilder.forName(localName).directExecutor().build(), health);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "grpc-server", () -> {
      running.stop();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    return running;
  }

  /** The services, their interceptors and limits, on {@code builder}. */
  private static <T extends ServerBuilder<T>> T withServices(T builder, GrpcSettings settings, ServiceClock clock, ServerInterceptor auth,
      ServerInterceptor metered, List<BindableService> services) {
    builder.directExecutor()
        .maxInboundMessageSize(settings.maxInboundMessageSize())
        .intercept(auth)
        .intercept(new ServiceHeaders(clock)) // also a refused call carries the clock
        .intercept(metered); // outermost: refusals are timed and counted too
    services.forEach(s -> builder.addService(MalformedRequests.guarded(s.bindService())));
    return builder;
  }

  /** A channel to the same services in this process, for calls that arrive another way (the dashboard's). */
  public Channel localChannel() {
    return localChannel;
  }

  public int port() {
    return server.getPort();
  }

  /** Stops taking calls, lets running ones finish for a while, then cancels the rest. */
  public void stop() {
    if (server.isShutdown()) {
      return;
    }
    health.enterTerminalState();
    server.shutdown();
    localChannel.shutdown();
    local.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      if (!local.awaitTermination(1, TimeUnit.SECONDS)) {
        localChannel.shutdownNow();
        local.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      localChannel.shutdownNow();
      local.shutdownNow();
      Thread.currentThread().interrupt();
    }
    log.info("gRPC server stopped");
  }
}
