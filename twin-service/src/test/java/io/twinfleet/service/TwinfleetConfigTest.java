package io.twinfleet.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class TwinfleetConfigTest {

  @Test
  void seedNodesAreHostPortListsOrFullAddresses() {
    var config = TwinfleetConfig.load(ConfigFactory.parseString(
        "twinfleet.cluster.seed-nodes = \"10.0.0.5:25520, pekko://twinfleet@node-2.svc:25520 ,\""));
    assertEquals(List.of("pekko://twinfleet@10.0.0.5:25520", "pekko://twinfleet@node-2.svc:25520"), config.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(List.of(), TwinfleetConfig.load(ConfigFactory.empty()).getStringList("pekko.cluster.seed-nodes"), "none: a cluster of its own");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TwinfleetConfig.load(ConfigFactory.parseString("twinfleet.cluster.seed-nodes = \"node-1\"")));
    assertEquals("twinfleet.cluster.seed-nodes: 'node-1' is neither host:port (a node's remoting port) nor pekko://twinfleet@host:port", e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> TwinfleetConfig.load(ConfigFactory.parseString("twinfleet.cluster.seed-nodes = \"pekko://other@h:1\"")));
  }
}
