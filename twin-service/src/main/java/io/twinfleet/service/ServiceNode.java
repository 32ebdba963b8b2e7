package io.twinfleet.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.twinfleet.persistence.cassandra.EmbeddedCassandra;
import io.twinfleet.persistence.cassandra.EmbeddedCassandraSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One service node in this JVM, optionally with an embedded Cassandra node of its own: what
 * {@code serve} runs and what the demo starts beside its simulated fleet. Stopping goes through
 * CoordinatedShutdown, which stops the embedded Cassandra last, after shard hand-off has
 * checkpointed the twins.
 */
public final class ServiceNode {

  private final ActorSystem<Void> system;
  private final TwinfleetService.Running running;

  private ServiceNode(ActorSystem<Void> system, TwinfleetService.Running running) {
    this.system = system;
    this.running = running;
  }

  /**
   * Starts a node with {@code overrides} over the defaults. With {@code embeddedCassandra} a
   * Cassandra node is forked first, with its data under {@code data/cassandra}, and the schema is
   * applied to it.
   */
  public static ServiceNode start(Config overrides, Path data, boolean embeddedCassandra) throws Exception {
    return start(overrides, data, embeddedCassandra, Clock.systemUTC());
  }

  /** As {@link #start(Config, Path, boolean)}, with the service clock on {@code realTime} (see {@link TwinfleetService#start(ActorSystem, Path, Clock)}). */
  public static ServiceNode start(Config overrides, Path data, boolean embeddedCassandra, Clock realTime) throws Exception {
    EmbeddedCassandra cassandra = null;
    if (embeddedCassandra) {
      cassandra = EmbeddedCassandra.start(EmbeddedCassandraSettings.defaults().withDataDirectory(data.resolve("cassandra")));
      Map<String, Object> embedded = new HashMap<>();
      embedded.put("twinfleet.cassandra.contact-points", "127.0.0.1:" + cassandra.cqlPort());
      embedded.put("twinfleet.cassandra.apply-schema", true);
      overrides = ConfigFactory.parseMap(embedded).withFallback(overrides);
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), TwinfleetConfig.SYSTEM_NAME, TwinfleetConfig.load(overrides));
    if (cassandra != null) {
      EmbeddedCassandra node = cassandra.withoutShutdownHook();
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseActorSystemTerminate(), "stop-embedded-cassandra",
          () -> CompletableFuture.supplyAsync(() -> {
            node.close();
            return Done.getInstance();
          }));
    }
    try {
      return new ServiceNode(system, TwinfleetService.start(system, data, realTime));
    } catch (Exception e) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
      if (cassandra != null) {
        cassandra.close();
      }
      throw e;
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public int grpcPort() {
    return running.grpc().port();
  }

  public int httpPort() {
    return running.httpPort();
  }

  public ServiceClock clock() {
    return running.clock();
  }

  /** Runs the coordinated shutdown and waits until the node (and its Cassandra) has stopped. */
  public void stop() {
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason()).toCompletableFuture().join();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  /** Why the node shut down, once it has begun to. */
  public Optional<CoordinatedShutdown.Reason> shutdownReason() {
    return CoordinatedShutdown.get(system).getShutdownReason();
  }

  public void awaitTermination() {
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
