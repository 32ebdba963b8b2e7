package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InFlightReadingsTest {

  @Test
  void streamsAndCallsShareTheNodesBound() {
    InFlightReadings node = new InFlightReadings(10);
    InFlightReadings.Account a = node.account();
    InFlightReadings.Account b = node.account();
    assertTrue(a.take(6));
    assertFalse(b.take(5), "6 + 5 > 10");
    assertTrue(b.take(3));
    assertTrue(node.tryTakeOne());
    assertFalse(node.tryTakeOne());
    assertEquals(10, node.held());
    a.give(6);
    node.returnOne();
    assertEquals(3, node.held());
    assertTrue(b.take(7));
  }

  @Test
  void anEndedStreamGivesBackWhatItHeldAndTakesNothingMore() {
    InFlightReadings node = new InFlightReadings(10);
    InFlightReadings.Account a = node.account();
    assertTrue(a.take(4));
    assertTrue(a.take(4));
    a.give(4);
    a.close();
    assertEquals(0, node.held());
    assertFalse(a.take(1), "a batch that raced with the end of its stream");
    assertEquals(0, node.held());
    a.give(4);
    assertEquals(0, node.held(), "giving back after the end adds no permit");
    assertTrue(node.account().take(10));
  }
}
