package io.twinfleet.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The service's logging as it ships (logback.xml): Twinfleet's INFO and the libraries' WARN only,
 * as text by default and as one JSON object per line when asked.
 */
class LogFormatTest {

  /** What the shipped configuration writes to stdout for a few lines, with {@code twinfleet.log.format} set to {@code format}. */
  private static List<String> logged(String format) throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setProperty("twinfleet.log.format", format);
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogFormatTest.class.getClassLoader().getResource("logback.xml"));
      context.getLogger("io.twinfleet.service.Example").info("node up on port {}", 8080);
      context.getLogger("io.twinfleet.service.Example").debug("not by default");
      context.getLogger("com.datastax.oss.driver.Example").info("driver chatter");
      context.getLogger("org.apache.cassandra.Example").info("cassandra chatter");
      context.getLogger("org.apache.pekko.cluster.Example").info("cluster chatter");
      context.getLogger("com.datastax.oss.driver.Example").warn("driver trouble");
    } finally {
      context.stop();
      System.setOut(stdout);
      System.clearProperty("twinfleet.log.format");
    }
    return captured.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
  }

  @Test
  void textByDefaultWithTheLibrariesQuietBelowWarn() throws Exception {
    List<String> lines = logged("text");
    assertEquals(2, lines.size(), "Twinfleet's INFO and the driver's WARN, nothing else: " + lines);
    assertTrue(lines.get(0).contains("INFO") && lines.get(0).endsWith("node up on port 8080"), lines.get(0));
    assertTrue(lines.get(1).contains("WARN") && lines.get(1).endsWith("driver trouble"), lines.get(1));
  }

  @Test
  void jsonWritesOneObjectPerLineWithTheFormattedMessage() throws Exception {
    List<String> lines = logged("json");
    assertEquals(2, lines.size(), lines.toString());
    ObjectMapper json = new ObjectMapper();
    JsonNode first = json.readTree(lines.get(0));
    assertEquals("INFO", first.path("level").asText());
    assertEquals("io.twinfleet.service.Example", first.path("loggerName").asText());
    assertEquals("node up on port 8080", first.path("formattedMessage").asText());
    assertTrue(first.path("timestamp").asLong() > 0);
    assertEquals("WARN", json.readTree(lines.get(1)).path("level").asText());
  }
}
