package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The whole-system restart at a small scale: a Cassandra node of its own and a service node, a
 * simulated fleet over most of a simulated day, then every view read, both stopped and started
 * again on the same data, and every view read again at the same service instant. The check passes
 * only if every view is identical, field for field.
 */
class RestartIntegrationTest {

  @Test
  void everyViewIsTheSameAfterTheServiceAndCassandraRestart() throws Exception {
    Path data = Files.createTempDirectory("restart-it");
    Path json = data.resolve("result.json");
    RestartCheck check = new RestartCheck();
    new CommandLine(check).parseArgs("--data", data.resolve("run").toString(), "--json", json.toString(), "--devices", "150",
        "--duration", "25s", "--speed", "2880", "--heartbeat-multiplier", "8", "--streams", "2");
    int status = check.call();

    JsonNode result = new ObjectMapper().readTree(json.toFile());
    assertEquals(0, result.path("load_test_status").asInt(), "the fleet ran without errors");
    assertTrue(result.path("stable_before_restart").asBoolean(), "the views settled before the restart: " + result.path("still_changing_before_restart"));
    assertEquals(0, result.path("differing_views").asInt(), "views that differ: " + result.path("differences"));
    assertEquals(0, result.path("transient_refusals_after").asInt(), "every view answered after the restart");
    assertTrue(result.path("twins_before").asInt() >= 150, "every device's twin was in memory before");
    assertTrue(result.path("views").asInt() >= 2 * 150 + 30 + 2, "devices, journeys, sites, funnel and quality were all read");
    assertTrue(result.path("all_twins_back_seconds").isNumber(), "every twin came back in memory by itself");
    assertEquals(0, status);
  }
}
