package io.twinfleet.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.sharding.ClusterSharding;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.pattern.Patterns;

/**
 * This node's meters, which {@code /metrics} on the HTTP port gives to Prometheus: readings taken
 * in and how they were answered, events persisted, twins and shards live here, projection lag (see
 * {@link ProjectionTelemetry}), gRPC calls by method and status (Micrometer's interceptor on the
 * gRPC server), the Cassandra driver's requests and errors ({@link MeteredSessionProvider}), and
 * the JVM. One registry per ActorSystem, so that several nodes in one JVM (tests) keep their own.
 */
public final class ServiceMetrics implements Extension {

  private static final long SHARD_POLL_SECONDS = 10;
  private static final Duration SHARD_POLL = Duration.ofSeconds(SHARD_POLL_SECONDS);

  private static final ExtensionId<ServiceMetrics> ID = new ExtensionId<>() {
    @Override
    public ServiceMetrics createExtension(ActorSystem<?> system) {
      return new ServiceMetrics(system);
    }
  };

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter readingsReceived;
  private final Map<String, Counter> readingsAnswered = new ConcurrentHashMap<>();
  private final Map<String, Counter> eventsPersisted = new ConcurrentHashMap<>();

  private ServiceMetrics(ActorSystem<?> system) {
    JvmGcMetrics gc = new JvmGcMetrics(); // listens to the collector until closed
    system.getWhenTerminated().thenRun(() -> {
      gc.close();
      registry.close();
    });
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    readingsReceived = Counter.builder("twinfleet.readings.received")
        .description("Readings that arrived over gRPC (Report and ReportStream), valid or not")
        .register(registry);
  }

  public static ServiceMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  public void readingsReceived(int n) {
    readingsReceived.increment(n);
  }

  /** {@code n} readings answered with {@code outcome}: {@code accepted}, or the code they were refused with. */
  public void readingsAnswered(String outcome, int n) {
    readingsAnswered.computeIfAbsent(outcome, o -> Counter.builder("twinfleet.readings.answered")
        .description("Readings answered to their sender: accepted, or refused with a status code")
        .tag("outcome", o)
        .register(registry)).increment(n);
  }

  /**
   * One event handed to the journal by an entity of type {@code entity}. A write that then fails
   * is counted too; it fails its command and stops its twin, and shows in the Cassandra meters.
   */
  public void eventPersisted(String entity, Object event) {
    String type = event.getClass().getSimpleName();
    eventsPersisted.computeIfAbsent(entity + '/' + type, k -> Counter.builder("twinfleet.events.persisted")
        .description("Events handed to the journal to be written, by entity type and event")
        .tag("entity", entity)
        .tag("event", type)
        .register(registry)).increment();
  }

  /**
   * Gauges of the shards and live twins of {@code typeName} on this node, from its shard region's
   * statistics, asked every {@value #SHARD_POLL_SECONDS} seconds (a scrape must not wait on the region).
   */
  public void watchShards(ActorSystem<?> system, String typeName) {
    AtomicLong shards = new AtomicLong();
    AtomicLong twins = new AtomicLong();
    Gauge.builder("twinfleet.shards", shards, AtomicLong::get)
        .description("Shards hosted on this node").tag("entity", typeName).register(registry);
    Gauge.builder("twinfleet.twins.live", twins, AtomicLong::get)
        .description("Twins in memory on this node").tag("entity", typeName).register(registry);
    org.apache.pekko.actor.ActorRef region = ClusterSharding.get(Adapter.toClassic(system)).shardRegion(typeName);
    Cancellable polling = system.scheduler().scheduleWithFixedDelay(Duration.ZERO, SHARD_POLL, () ->
        Patterns.ask(region, ShardRegion.getRegionStatsInstance(), SHARD_POLL).whenComplete((answer, error) -> {
          if (answer instanceof ShardRegion.ShardRegionStats stats) {
            shards.set(stats.getStats().size());
            twins.set(stats.getStats().values().stream().mapToLong(n -> ((Number) n).longValue()).sum());
          }
        }), system.executionContext());
    // Not after the region has handed its shards off and stopped.
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "stop-shard-gauges-" + typeName, () -> {
      polling.cancel();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }
}
