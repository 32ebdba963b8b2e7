package io.twinfleet.loadtest;

import io.twinfleet.persistence.cassandra.EmbeddedCassandra;
import io.twinfleet.persistence.cassandra.EmbeddedCassandraSettings;
import java.io.IOException;
import java.nio.file.Path;

/**
 * An embedded Cassandra node that a scenario stops and starts again on the same data and the same
 * ports, so the service's contact point stays right across the restart (the restart check, the
 * outage).
 */
final class RestartableCassandra implements AutoCloseable {

  private final EmbeddedCassandraSettings settings;
  private final int cqlPort;
  private EmbeddedCassandra node;

  private RestartableCassandra(EmbeddedCassandraSettings settings, int cqlPort) {
    this.settings = settings;
    this.cqlPort = cqlPort;
  }

  /** Starts a node with its data in {@code dataDirectory}, on two free loopback ports kept for its restarts. */
  static RestartableCassandra start(Path dataDirectory) throws IOException {
    int[] ports = ForkedNode.freePorts();
    RestartableCassandra c = new RestartableCassandra(EmbeddedCassandraSettings.defaults().withDataDirectory(dataDirectory)
        .withCqlPort(ports[0]).withStoragePort(ports[1]), ports[0]);
    c.start();
    return c;
  }

  String contactPoint() {
    return "127.0.0.1:" + cqlPort;
  }

  /** Stops the node cleanly (SIGTERM: it drains) and waits until it has exited. */
  void stop() {
    node.close();
  }

  /** Starts the node again on the same data and ports; returns once it answers CQL. */
  void start() {
    node = EmbeddedCassandra.start(settings);
  }

  /** Stops the node unless it is stopped already. */
  @Override
  public void close() {
    node.close();
  }
}
