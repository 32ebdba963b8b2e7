package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * The failure scenario at a small scale: three service JVMs on loopback against the forked
 * Cassandra, a few hundred simulated devices reporting to all three, {@code kill -9} of one node
 * under load. The scenario's own referee must pass: every device's twin as the truth has it
 * (nothing acknowledged lost), the dead node's twins hosted by the survivors again, its devices
 * acknowledged again, and its silent devices marked offline on time.
 */
@ExtendWith(CassandraExtension.class)
class FailoverIntegrationTest {

  @Test
  void killingANodeUnderLoadLosesNothingAndItsTwinsComeBackOnTheSurvivors(TestKeyspace ks) throws Exception {
    Path data = Files.createTempDirectory("failover-it");
    Path json = data.resolve("result.json");
    Failover failover = new Failover();
    new CommandLine(failover).parseArgs(
        "--cassandra", ks.host() + ":" + ks.port(), "--keyspace", ks.keyspace(), "--data", data.resolve("nodes").toString(),
        "--json", json.toString(), "--devices", "200", "--witnesses", "8", "--duration", "75s", "--kill-after", "20s",
        "--speed", "60", "--node-heap", "384m", "--streams", "3");
    int status = failover.call(); // the scenario's own failure (a node that did not start, say) is the test's failure

    JsonNode result = new ObjectMapper().readTree(json.toFile());
    JsonNode incident = result.path("incident");
    assertEquals(0, result.path("referee").path("mismatches").asInt(), "the referee found nothing wrong: " + result.path("referee"));
    assertEquals(0, status, "the scenario passed");
    assertTrue(incident.path("twins_before").asInt() > 0);
    assertFalse(incident.path("all_twins_back_seconds").isNull(), "the survivors host every twin again");
    assertTrue(incident.path("dead_node_devices_acknowledged_again").asInt() > 0, "the dead node's devices are acknowledged again");
    assertTrue(incident.path("silent_devices").asInt() > 0, "some devices on the dead node fell silent");
    assertEquals(incident.path("silent_devices").asInt(), incident.path("silent_devices_offline_on_time").asInt(),
        "every silent device is marked offline on time");
    result.path("errors").fieldNames().forEachRemaining(e -> assertFalse(e.contains("LOST"), "readings lost: " + e));
  }
}
