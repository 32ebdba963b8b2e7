package io.twinfleet.service;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** /ready waits for the gRPC server: not ready until it listens. */
class GrpcReadinessTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void notReadyUntilTheServerListens() throws Exception {
    GrpcReadiness check = new GrpcReadiness(Adapter.toClassic(testKit.system()));
    assertFalse(check.get().toCompletableFuture().get(), "the gRPC server has not started");
    GrpcReadiness.Serving.get(testKit.system()).listening();
    assertTrue(check.get().toCompletableFuture().get());
  }
}
