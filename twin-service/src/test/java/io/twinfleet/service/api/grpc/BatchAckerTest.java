package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.twinfleet.protocol.v1.BatchAck;
import io.twinfleet.service.Eventually;
import io.twinfleet.service.device.DeviceTwin.ReportListener;
import io.twinfleet.service.device.DeviceTwin.ReportOutcome;
import io.twinfleet.service.device.ErrorCode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The acks of one ReportStream and the node's readings in flight: a batch's share comes back when
 * its readings are answered, however the stream ends, and not before.
 */
class BatchAckerTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration TIMEOUT = Duration.ofMillis(300);

  /** The response side of the call, as the acker sees it. */
  private static final class Call extends ServerCallStreamObserver<BatchAck> {
    final List<BatchAck> acks = new CopyOnWriteArrayList<>();
    final AtomicInteger requested = new AtomicInteger();
    volatile Throwable error;
    volatile boolean completed;
    volatile boolean cancelled;

    @Override public boolean isCancelled() { return cancelled; }
    @Override public void setOnCancelHandler(Runnable r) {}
    @Override public void setCompression(String c) {}
    @Override public boolean isReady() { return true; }
    @Override public void setOnReadyHandler(Runnable r) {}
    @Override public void disableAutoInboundFlowControl() {}
    @Override public void request(int n) { requested.addAndGet(n); }
    @Override public void setMessageCompression(boolean e) {}
    @Override public void onNext(BatchAck ack) { acks.add(ack); }
    @Override public void onError(Throwable t) { error = t; }
    @Override public void onCompleted() { completed = true; }
  }

  private InFlightReadings node;
  private Call call;
  private ActorRef<ReportListener> acker;

  @BeforeEach
  void start() {
    node = new InFlightReadings(100);
    call = new Call();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** Starts the acker of a stream whose readings time out after {@code timeout}; returns the stream's account. */
  private InFlightReadings.Account spawn(Duration timeout) {
    InFlightReadings.Account stream = node.account();
    acker = testKit.spawn(BatchAcker.create(call, timeout, stream));
    return stream;
  }

  /** A batch of {@code n} readings on their way, holding {@code n} permits taken from {@code account}. */
  private void track(InFlightReadings.Account account, long key, int n) {
    assertTrue(account.take(n));
    acker.tell(new BatchAcker.Track(key, 100 + key, java.util.Collections.nCopies(n, "dev-" + key), n, List.of(), n));
  }

  private static ReportOutcome ok(long key, int index) {
    return new ReportOutcome(key, index, null, null);
  }

  private void awaitHeld(int held) throws InterruptedException {
    Eventually.await(held + " readings held", Duration.ofSeconds(5), () -> node.held() == held);
  }

  private void awaitStopped() {
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.expectTerminated(acker, Duration.ofSeconds(5));
  }

  @Test
  void aBatchIsAckedInOrderAndGivesItsShareBackWithItsAck() throws Exception {
    InFlightReadings.Account stream = spawn(TIMEOUT);
    track(stream, 0, 2);
    track(stream, 1, 1);
    acker.tell(ok(1, 0));
    acker.tell(ok(0, 1));
    Thread.sleep(100);
    assertTrue(call.acks.isEmpty(), "batch 1 waits for batch 0");
    assertEquals(3, node.held());
    acker.tell(ok(0, 0));
    Eventually.await("two acks", Duration.ofSeconds(5), () -> call.acks.size() == 2);
    assertEquals(List.of(100L, 101L), call.acks.stream().map(BatchAck::getBatchId).toList());
    assertEquals(2, call.acks.get(0).getAccepted());
    assertEquals(2, call.requested.get(), "one more batch read per ack");
    awaitHeld(0);
  }

  @Test
  void aClientThatGoesAwayLeavesItsReadingsCountedUntilTheTwinsAnswer() throws Exception {
    InFlightReadings.Account stream = spawn(TIMEOUT.multipliedBy(100));
    track(stream, 0, 3);
    acker.tell(new BatchAcker.ClientGone());
    acker.tell(ok(0, 0));
    Thread.sleep(100);
    assertEquals(3, node.held(), "two readings still in mailboxes: the batch's share stays taken");
    acker.tell(ok(0, 1));
    acker.tell(new ReportOutcome(0, 2, ErrorCode.NOT_FOUND, "gone"));
    awaitHeld(0);
    awaitStopped();
    assertTrue(call.acks.isEmpty(), "nothing written to a client that went away");
  }

  @Test
  void aMalformedBatchEndsTheStreamAfterTheAcksOfTheBatchesBeforeIt() throws Exception {
    InFlightReadings.Account stream = spawn(TIMEOUT.multipliedBy(100));
    track(stream, 0, 1);
    acker.tell(new BatchAcker.Fail(Status.INVALID_ARGUMENT.withDescription("batch 7: readings: empty")));
    Thread.sleep(100);
    assertNull(call.error, "the error waits for batch 0's ack");
    acker.tell(ok(0, 0));
    Eventually.await("the stream ends", Duration.ofSeconds(5), () -> call.error != null);
    assertEquals(1, call.acks.size());
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(call.error).getCode());
    assertEquals(0, call.requested.get(), "no batch is read after the malformed one");
    awaitHeld(0);
    awaitStopped();
  }

  @Test
  void aTimedOutReadingKeepsItsShareUntilItsLateAnswerOrTheLimit() throws Exception {
    InFlightReadings.Account stream = spawn(TIMEOUT);
    track(stream, 0, 2);
    track(stream, 1, 1);
    acker.tell(ok(0, 0));
    Eventually.await("batch 0 acked as partly timed out", Duration.ofSeconds(5), () -> !call.acks.isEmpty());
    BatchAck ack = call.acks.get(0);
    assertEquals(1, ack.getAccepted());
    assertEquals("UNAVAILABLE", ack.getRejections(0).getCode());
    assertEquals(1, ack.getRejections(0).getIndex());
    Eventually.await("batch 1 timed out too", Duration.ofSeconds(5), () -> call.acks.size() == 2);
    assertEquals(3, node.held(), "both batches have a reading in a mailbox");

    acker.tell(ok(0, 1)); // batch 0's late answer
    awaitHeld(1);
    assertEquals(2, call.acks.size(), "a late answer changes no ack");
    // batch 1's reading never answers: its share comes back after LATE_LIMIT timeouts
    awaitHeld(0);
    acker.tell(new BatchAcker.ClientDone());
    awaitStopped();
    assertTrue(call.completed);
  }
}
