package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.twinfleet.loadtest.sim.Fleet;
import io.twinfleet.loadtest.sim.FleetProfile;
import io.twinfleet.loadtest.sim.FleetSummary;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.Stage;
import io.twinfleet.service.ServiceNode;
import io.twinfleet.service.security.SecuritySettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A small scenario against a real service node and the forked Cassandra, on an accelerated clock:
 * a few hundred devices are provisioned, live for a simulated day (first reports,
 * drops, battery drain, faults, charging sessions, firmware upgrades, decommissioning), and the
 * referee then finds the service's view of every device equal to the truth. Then the dashboard,
 * in a real browser, shows that fleet as the API does ({@link DashboardCheck}).
 */
@ExtendWith(CassandraExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RefereeIntegrationTest {

  private static final double SPEED = 1_000;
  private static ServiceNode node;
  private static Path data;
  private static final HeldClock clock = new HeldClock();

  @BeforeAll
  static void startNode(TestKeyspace ks) throws Exception {
    data = Files.createTempDirectory("referee-it");
    node = ServiceNode.start(ConfigFactory.parseString("""
        twinfleet.cassandra.keyspace = "%s"
        twinfleet.cassandra.contact-points = "%s:%d"
        twinfleet.cassandra.apply-schema = off
        twinfleet.grpc.port = 0
        twinfleet.clock.speed = %s
        pekko.remote.artery.canonical.port = 0
        pekko.management.http.port = 0
        """.formatted(ks.keyspace(), ks.host(), ks.port(), SPEED)), data, false, clock);
  }

  @AfterAll
  static void stopNode() {
    if (node != null) {
      node.stop();
    }
  }

  @Test
  @Order(1)
  void refereeFindsTheServiceEqualToTheTruth() throws Exception {
    // Shorter gaps than a real fleet, so that one simulated day sees every kind of change.
    FleetProfile lively = new FleetProfile(0.05, 0.05, Duration.ofHours(2), Duration.ofDays(2), Duration.ofHours(6),
        Duration.ofHours(1), Duration.ofDays(2), Duration.ofHours(4), Duration.ofHours(2), Duration.ofHours(1),
        Duration.ofDays(1), Duration.ofDays(20)).withBatteryDrain(40); // batteries run out within the day
    Fleet fleet = Fleet.plan(17, 300, 60, "it-", lively, 2);
    String token = Credentials.adminToken(SecuritySettings.fromConfig(node.system().settings().config(), data), Duration.ofHours(1));
    List<ManagedChannel> channels = Channels.open("127.0.0.1:" + node.grpcPort(), 2, token);
    RunStats stats = new RunStats(fleet);
    try {
      ServiceTime time = ServiceTime.sync(channels.get(0));
      assertEquals(SPEED, time.speed(), "the client reads the service's clock speed from its responses");
      Simulation sim = new Simulation(fleet, time, channels, 100, 8, stats);
      long start;
      try (sim) {
        sim.start();
        sim.provision(64, Progress.NONE);
        start = time.nowMillis();
        while (time.nowMillis() - start < Duration.ofDays(1).toMillis()) {
          Thread.sleep(200);
        }
        sim.freeze(Duration.ofMinutes(1));
        assertNull(sim.failure());

        FleetSummary truth = FleetSummary.of(fleet, time.nowMillis());
        assertTrue(truth.active() > 200 && truth.stage(Stage.ONBOARDING) > 0 && truth.stage(Stage.UNCLAIMED) > 0,
            "the scenario has active, onboarding and unclaimed devices: " + truth);
        assertTrue(stats.decommissioned.sum() > 0 && fleet.readings() > 10_000, "devices were decommissioned and readings sent");

        Referee referee = Referee.of(fleet, time, DeviceServiceGrpc.newFutureStub(channels.get(0)), stats);
        Referee.Verdict verdict = referee.verify(i -> true, 32, Progress.NONE);
        assertEquals(List.of(), verdict.mismatches().stream().limit(20).toList(),
            verdict.mismatches().size() + " mismatches; errors " + stats.errors() + " " + stats.firstMessages());
        assertEquals(fleet.size(), verdict.checked());
        assertEquals(verdict.trueOnline(), verdict.serviceOnline());
        assertTrue(verdict.serviceOnline() < verdict.active(), "some devices are off line at the end");
        Referee.FleetUptime uptime = verdict.uptime();
        assertTrue(uptime.truth() < 0.99 && uptime.truth() > 0.5, "the fleet lost some uptime: " + uptime);
        // Also a mismatch, so this is belt and braces. At x1000 a reading's delivery (batching, the tick,
        // the ack) is minutes of simulated time, so the fleet's bound, the sum of every device's, is
        // wide here; RefereeTest shows the per-device checks failing just outside their allowance.
        assertTrue(uptime.agrees(), uptime.toString());

        // The journey read models of the run's devices: funnel and lists per model, and journeys.
        JourneyReferee journeys = new JourneyReferee(fleet, time, channels.get(0), Referee.tolerance(time, stats), JourneyReferee.lag(time));
        JourneyReferee.Result result = journeys.verify(50, Duration.ofSeconds(60));
        assertEquals(List.of(), result.mismatches().stream().limit(20).toList(), result.mismatches().size() + " journey mismatches");
        long claimed = fleet.size() - truth.stage(Stage.UNCLAIMED);
        assertEquals(claimed, result.devicesCounted(), "every claimed device counted once");
        assertEquals(claimed, result.devicesListed(), "and listed once");
        assertTrue(result.journeysChecked() >= 40, "journeys read: " + result.journeysChecked());

        // The sites: devices and availability now, and each month's SLA figures.
        SiteReferee.Result sites = new SiteReferee(fleet, time, channels.get(0), Referee.tolerance(time, stats), SiteReferee.lag(time))
            .verify(fleet.siteCount());
        assertEquals(List.of(), sites.mismatches().stream().limit(20).toList(), sites.mismatches().size() + " site mismatches");
        assertTrue(sites.sites() > 50 && sites.months() >= sites.sites(), sites.toString());
        assertTrue(sites.truth() < 1, "some site was down at some point: " + sites);

        // The fleet quality read models: the run's uptime by model, and the firmware with most downtime.
        QualityReferee.Result quality = QualityReferee.verify(fleet, time, channels.get(0), uptime.tolerance(), Duration.ofSeconds(60));
        assertEquals(List.of(), quality.mismatches(), quality.toString());
        assertTrue(quality.service() < 1, quality.toString());

        // Battery alerts: one BATTERY_LOW per episode below 20%, a forecast before every battery ran out.
        AlertReferee.Result alerts = AlertReferee.verify(fleet, channels.get(0), Duration.ofSeconds(60));
        assertEquals(List.of(), alerts.mismatches().stream().limit(20).toList(), alerts.mismatches().size() + " alert mismatches");
        assertTrue(alerts.lowEpisodes() > 20 && alerts.ranOut() > 5, "batteries ran low and out: " + alerts);
      }
      assertEquals(0, stats.errorCount(), "errors: " + stats.errors() + " " + stats.firstMessages());
    } finally {
      Channels.close(channels);
    }
  }

  /** After the fleet has lived its day (the test before), with the service's clock held from now on. */
  @Test
  @Order(2)
  void theDashboardShowsTheFleetAsTheApiDoesAndAcknowledgesAnAlert() throws Exception {
    DashboardCheck.verify(node, clock, data);
  }
}
