package io.twinfleet.service;

import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class's real service node on the class's own keyspace: started from the class's
 * {@code @BeforeAll} with its settings, stopped and started again with the same settings by tests of
 * restarts, and stopped after the class.
 */
@ExtendWith(CassandraExtension.class)
public abstract class NodeTestBase {

  protected static TestKeyspace keyspace;
  protected static TestNode node;
  private static String settings;

  /** Starts the node; call it from the test class's {@code @BeforeAll}. */
  protected static void startNode(TestKeyspace ks, String extraConfig) throws Exception {
    keyspace = ks;
    settings = extraConfig;
    node = TestNode.start(ks, extraConfig);
  }

  /** Stops the node gracefully, as a shutdown does. */
  protected static void stopNode() throws Exception {
    if (node != null) {
      node.close();
      node = null;
    }
  }

  /** Starts the node again on the same keyspace with the same settings. */
  protected static void startAgain() throws Exception {
    node = TestNode.start(keyspace, settings);
  }

  protected static void restartNode() throws Exception {
    stopNode();
    startAgain();
  }

  @AfterAll
  static void stopNodeAfterTheClass() throws Exception {
    stopNode();
  }
}
