package io.twinfleet.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service node in a JVM of its own on loopback ({@code twinfleet serve} on this JVM's class
 * path), so that it can be killed like a real one: {@link #kill} is {@code kill -9}. Its JVM
 * options are those in {@code TWINFLEET_JAVA_OPTS}, as for {@code ./twinfleet serve}; its output
 * goes to {@code node.log} in its data directory.
 */
final class ForkedNode implements AutoCloseable {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  final String name;
  final int grpcPort;
  final int httpPort;
  final int remotePort;
  final Path data;
  private final Process process;

  private ForkedNode(String name, int grpcPort, int httpPort, int remotePort, Path data, Process process) {
    this.name = name;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.remotePort = remotePort;
    this.data = data;
    this.process = process;
  }

  /** Three free loopback ports: gRPC, HTTP, remoting. */
  static int[] freePorts() throws IOException {
    int[] ports = new int[3];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < ports.length; i++) {
        ServerSocket s = new ServerSocket(0);
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }

  /**
   * Starts a node on {@code ports} (gRPC, HTTP, remoting) with {@code settings} as environment
   * variables ({@code TWINFLEET_...}) and {@code heap} as its maximum heap; returns at once.
   */
  static ForkedNode start(String name, int[] ports, Path data, Map<String, String> settings, String heap) throws IOException {
    Files.createDirectories(data);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap));
    String options = System.getenv("TWINFLEET_JAVA_OPTS"); // the service's JVM options, as for ./twinfleet serve
    if (options != null && !options.isBlank()) {
      command.addAll(List.of(options.strip().split("\\s+")));
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.twinfleet.service.Main", "serve", "--data", data.toString()));
    Map<String, String> env = new HashMap<>(settings);
    env.put("TWINFLEET_GRPC_PORT", String.valueOf(ports[0]));
    env.put("TWINFLEET_HTTP_PORT", String.valueOf(ports[1]));
    env.put("TWINFLEET_REMOTE_PORT", String.valueOf(ports[2]));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(data.resolve("node.log").toFile());
    pb.environment().putAll(env);
    return new ForkedNode(name, ports[0], ports[1], ports[2], data, pb.start());
  }

  String grpcTarget() {
    return "127.0.0.1:" + grpcPort;
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Waits until {@code /ready} answers 200 (Up member, shard region registered, Cassandra answers). */
  void awaitReady(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < end) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with status " + process.exitValue() + "; see " + data.resolve("node.log"));
      }
      try {
        HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(uri("/ready")).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
        last = "HTTP " + r.statusCode();
      } catch (IOException e) {
        // not listening yet, or a starting node's endpoint dropped the connection: ask again
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException(name + " was not ready within " + timeout.toSeconds() + " s (last answer: " + last + "); see "
        + data.resolve("node.log"));
  }

  /** The cluster members this node sees as Up. */
  int upMembers() throws IOException, InterruptedException {
    JsonNode members = get("/cluster/members").path("members");
    int up = 0;
    for (JsonNode m : members) {
      if ("Up".equals(m.path("status").asText())) {
        up++;
      }
    }
    return up;
  }

  /** The Device shards this node hosts now, with how many twins each has awake. */
  Map<String, Integer> deviceShards() throws IOException, InterruptedException {
    Map<String, Integer> shards = new HashMap<>();
    for (JsonNode r : get("/cluster/shards/Device").path("regions")) {
      shards.put(r.path("shardId").asText(), r.path("numEntities").asInt());
    }
    return shards;
  }

  private JsonNode get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(name + " " + path + ": HTTP " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  /** {@code kill -9}: no shutdown, no hand-off, no checkpoint. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: a graceful stop (shard hand-off, checkpoints); killed if it takes over a minute. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }
}
