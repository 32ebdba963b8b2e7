package io.twinfleet.service.api.grpc;

import io.twinfleet.service.ServiceClock;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC endpoint: the Twinfleet services plus the standard health and reflection services.
 * Handlers never block, so calls run on the transport threads (direct executor). Stopped by
 * CoordinatedShutdown: health goes NOT_SERVING, then shutdown, await, shutdownNow.
 */
public final class GrpcServer {

  private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

  private final Server server;
  private final HealthStatusManager health;

  private GrpcServer(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  public static GrpcServer start(ActorSystem<?> system, GrpcSettings settings, ServiceClock clock, List<BindableService> services) {
    HealthStatusManager health = new HealthStatusManager();
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(settings.host(), settings.port()))
        .directExecutor()
        .maxInboundMessageSize(settings.maxInboundMessageSize())
        .intercept(new ServiceHeaders(clock))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
    services.forEach(builder::addService);
    Server server;
    try {
      server = builder.build().start();
    } catch (IOException e) {
      throw new UncheckedIOException("gRPC could not listen on " + settings.host() + ":" + settings.port(), e);
    }
    for (BindableService s : services) {
      health.setStatus(s.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
    }
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
    GrpcServer running = new GrpcServer(server, health);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "grpc-server", () -> {
      running.stop();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    return running;
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
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    log.info("gRPC server stopped");
  }
}
