package io.twinfleet.service;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.typesafe.config.Config;
import io.twinfleet.persistence.cassandra.CassandraSchema;
import io.twinfleet.persistence.cassandra.ClockOriginStore;
import io.twinfleet.persistence.readmodel.AlertsRepository;
import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.JourneyRepository;
import io.twinfleet.persistence.readmodel.QualityRepository;
import io.twinfleet.persistence.readmodel.SitesRepository;
import io.twinfleet.persistence.readmodel.StageMilestonesRepository;
import io.twinfleet.service.alert.AlertQueries;
import io.twinfleet.service.alert.AlertReadModels;
import io.twinfleet.service.alert.AlertRows;
import io.twinfleet.service.api.grpc.DeviceServiceImpl;
import io.twinfleet.service.api.grpc.GrpcServer;
import io.twinfleet.service.api.grpc.GrpcSettings;
import io.twinfleet.service.api.grpc.JourneyServiceImpl;
import io.twinfleet.service.api.grpc.QualityServiceImpl;
import io.twinfleet.service.api.grpc.SiteServiceImpl;
import io.twinfleet.service.api.grpc.TelemetryServiceImpl;
import io.twinfleet.service.api.http.JsonGateway;
import io.twinfleet.service.device.BaselineSink;
import io.twinfleet.service.device.DeviceReadModels;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.MilestoneScheduler;
import io.twinfleet.service.journey.JourneyQueries;
import io.twinfleet.service.quality.FleetQuality;
import io.twinfleet.service.quality.QualityQueries;
import io.twinfleet.service.site.SiteSettings;
import io.twinfleet.service.site.SiteTwin;
import io.twinfleet.service.site.SiteUpdates;
import io.twinfleet.service.security.AuthInterceptor;
import io.twinfleet.service.security.SecuritySettings;
import io.twinfleet.service.security.TokenVerifier;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts everything a service node runs on an ActorSystem, in order: schema (dev and test only),
 * the ops HTTP port (health, metrics, dashboard), cluster membership, the device twins, the
 * projections, then the gRPC server, which the dashboard's JSON calls reach in process.
 * {@code Main} and the tests use the same entry point.
 */
public final class TwinfleetService {

  private static final Logger log = LoggerFactory.getLogger(TwinfleetService.class);
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  /** A started node. */
  public record Running(GrpcServer grpc, int httpPort, ServiceClock clock) {}

  private TwinfleetService() {}

  /** Starts the service on {@code system}; {@code data} is where a generated development secret lives. */
  public static Running start(ActorSystem<?> system, Path data) throws Exception {
    return start(system, data, Clock.systemUTC());
  }

  /**
   * As {@link #start(ActorSystem, Path)}, with the service clock running on {@code realTime}
   * instead of the system's: the restart check holds it still, so that views read before and after
   * a restart are computed at one instant.
   */
  public static Running start(ActorSystem<?> system, Path data, Clock realTime) throws Exception {
    Config config = system.settings().config();
    SecuritySettings security = SecuritySettings.fromConfig(config, data);
    AuthInterceptor auth = auth(security);
    Optional<GrpcServer.Tls> tls = security.tlsCertFile().map(cert -> new GrpcServer.Tls(cert, security.tlsKeyFile().orElseThrow()));
    GrpcSettings grpcSettings = GrpcSettings.fromConfig(config);
    DeviceSettings deviceSettings = DeviceSettings.fromConfig(config);
    double speed = config.getDouble("twinfleet.clock.speed");
    String keyspace = CassandraSchema.requireValidKeyspace(config.getString("twinfleet.cassandra.keyspace"));

    if (config.getBoolean("twinfleet.cassandra.apply-schema")) {
      applySchema(config, keyspace); // before anything else touches Cassandra and caches its absence
    }

    int httpPort = PekkoManagement.get(system).start().toCompletableFuture().get(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS).getPort();

    Cluster cluster = Cluster.get(system);
    if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }

    CqlSession session = CassandraSessionRegistry.get(system)
        .sessionFor("pekko.projection.cassandra.session-config")
        .underlying()
        .toCompletableFuture()
        .get(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    StorageHealth.get(system).start(system, session);
    ServiceClock clock = clock(new ClockOriginStore(session, keyspace), speed, realTime);
    CustomerDevicesRepository customerDevices = new CustomerDevicesRepository(session, keyspace);
    StageMilestonesRepository milestones = new StageMilestonesRepository(session, keyspace);

    ActorRef<ShardingEnvelope<DeviceTwin.Command>> region = DeviceTwin.init(system, deviceSettings, clock);
    JourneyRepository journeys = new JourneyRepository(session, keyspace);
    AlertsRepository alerts = new AlertsRepository(session, keyspace);
    DeviceReadModels.init(system, deviceSettings, customerDevices, milestones, journeys, clock);
    AlertReadModels.init(system, deviceSettings, alerts);
    MilestoneScheduler.init(system, milestones, clock);
    SitesRepository sites = new SitesRepository(session, keyspace);
    SiteTwin.init(system, SiteSettings.fromConfig(config), clock);
    SiteUpdates.init(system, deviceSettings, sites);
    QualityRepository quality = new QualityRepository(session, keyspace);
    FleetQuality.init(system, deviceSettings, quality);

    ActorRef<ShardingEnvelope<DeviceTwin.Command>> baseline = grpcSettings.baselineSink() ? BaselineSink.init(system) : null;
    GrpcServer grpc = GrpcServer.start(system, grpcSettings, clock, auth, tls, List.of(
        new DeviceServiceImpl(system, grpcSettings, deviceSettings, customerDevices),
        new JourneyServiceImpl(system, grpcSettings, deviceSettings, clock,
            new JourneyQueries(journeys, customerDevices, deviceSettings.projectionTags())),
        new TelemetryServiceImpl(system, region, baseline, grpcSettings, deviceSettings, clock),
        new SiteServiceImpl(system, grpcSettings, clock, sites, customerDevices),
        new QualityServiceImpl(system, grpcSettings, clock, new QualityQueries(quality, deviceSettings.projectionTags()),
            new AlertQueries(alerts), new AlertRows(alerts, deviceSettings.alerts().keepResolved()), deviceSettings.projectionTags())));
    JsonGateway.get(system).serve(grpc.localChannel());
    ServiceMetrics.get(system).watchShards(system, DeviceTwin.ENTITY_KEY.name());
    ServiceMetrics.get(system).watchShards(system, SiteTwin.ENTITY_KEY.name());
    GrpcReadiness.Serving.get(system).listening();
    log.info("Twinfleet node up: gRPC{} on {}:{}, HTTP on {}, clock speed {}", tls.isPresent() ? " (TLS)" : "", grpcSettings.host(), grpc.port(),
        httpPort, speed);
    return new Running(grpc, httpPort, clock);
  }

  /** The authentication the settings ask for; insecure only when told, and then loudly. */
  private static AuthInterceptor auth(SecuritySettings settings) throws IOException {
    if (settings.insecure()) {
      log.warn("INSECURE: twinfleet.security.insecure is set, so every gRPC call is served without a token, with every right."
          + " For local experiments only.");
      return AuthInterceptor.insecure();
    }
    if (!settings.publicKeysOnly() && settings.jwtSecret().isEmpty()) {
      log.info("Tokens are checked with the development secret in {} (generated when absent); ./twinfleet token mints them.",
          settings.jwtSecretFile());
    }
    return AuthInterceptor.checking(TokenVerifier.of(settings));
  }

  /**
   * The service clock goes on from where the stored one is (see {@link ServiceClock#resume}); a
   * first start or a new speed stores a new origin. Every node of a cluster uses what is stored, as
   * Cassandra returns it.
   */
  private static ServiceClock clock(ClockOriginStore store, double speed, Clock realTime) {
    ClockOriginStore.Origin stored = store.read().orElse(null);
    ClockOriginStore.Origin agreed = store.store(stored, ServiceClock.resume(realTime, speed, stored).origin());
    ServiceClock clock = ServiceClock.resume(realTime, agreed.speed(), agreed);
    if (agreed.speed() != speed) {
      log.warn("Another node set the service clock to x{} first; this node follows it, not x{}", agreed.speed(), speed);
    }
    if (stored != null && clock.instant().isAfter(realTime.instant().plus(Duration.ofMinutes(1)))) {
      log.info("Service clock at x{} reads {}, ahead of real time (an accelerated clock ran here)", agreed.speed(), clock.instant());
    }
    return clock;
  }

  /** Development and tests: create the keyspace (one replica) and apply the .cql files. */
  private static void applySchema(Config config, String keyspace) {
    try (CqlSession session = schemaSession(config)) {
      CassandraSchema.createKeyspace(session, keyspace);
      CassandraSchema.apply(session, keyspace);
    }
    log.info("Schema applied to keyspace {}", keyspace);
  }

  /**
   * Production ({@code twinfleet schema}): create the keyspace with {@code replicas} replicas in the
   * configured datacenter unless it exists, then apply the .cql files. Returns the keyspace's
   * replication as Cassandra reports it.
   */
  public static String applySchema(Config config, int replicas) {
    String keyspace = CassandraSchema.requireValidKeyspace(config.getString("twinfleet.cassandra.keyspace"));
    String datacenter = config.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter");
    try (CqlSession session = schemaSession(config)) {
      String replication = CassandraSchema.createKeyspace(session, keyspace, datacenter, replicas);
      CassandraSchema.apply(session, keyspace);
      return replication;
    }
  }

  /** A session of its own for schema changes, on the node's contact points and datacenter. */
  private static CqlSession schemaSession(Config config) {
    // The contact points replace the driver file's, rather than adding to them.
    DriverConfigLoader driverConfig = DriverConfigLoader.programmaticBuilder()
        .withStringList(DefaultDriverOption.CONTACT_POINTS, config.getStringList("datastax-java-driver.basic.contact-points"))
        .withString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER,
            config.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter"))
        .build();
    return CqlSession.builder().withConfigLoader(driverConfig).build();
  }
}
