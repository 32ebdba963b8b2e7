package io.twinfleet.service;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.connectors.cassandra.CqlSessionProvider;
import org.apache.pekko.stream.connectors.cassandra.DriverConfigLoaderFromConfig;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * The Cassandra sessions of the journal, the snapshot store and the projections, built as Pekko's
 * default provider builds them (the {@code datastax-java-driver} settings) and handed this node's
 * meter registry, so that the driver's request and error meters (see
 * {@code datastax-java-driver.advanced.metrics}) reach {@code /metrics}. Named in the
 * {@code session-provider} settings of persistence.conf. Contact points come from the settings;
 * Pekko's provider could also look them up through Pekko Discovery (its {@code service-discovery}
 * settings), which this one does not.
 */
public final class MeteredSessionProvider implements CqlSessionProvider {

  private final ActorSystem system;
  private final Config config;

  public MeteredSessionProvider(ActorSystem system, Config config) {
    this.system = system;
    this.config = config;
  }

  @Override
  public Future<CqlSession> connect(ExecutionContext ec) {
    Config driverConfig = CqlSessionProvider.driverConfig(system, config);
    return FutureConverters.asScala(CqlSession.builder()
        .withConfigLoader(DriverConfigLoaderFromConfig.fromConfig(driverConfig))
        .withMetricRegistry(ServiceMetrics.get(Adapter.toTyped(system)).registry())
        .buildAsync()
        .toCompletableFuture());
  }
}
