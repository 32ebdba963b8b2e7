package io.twinfleet.service.api.grpc;

import static io.twinfleet.service.Eventually.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A stream sent to a gRPC call goes no faster than the client takes it. */
class BackpressuredStreamTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  /** A call whose client is ready only when the test says so. */
  private static final class Call extends ServerCallStreamObserver<Integer> {
    final List<Integer> sent = new CopyOnWriteArrayList<>();
    final AtomicBoolean ready = new AtomicBoolean();
    volatile Runnable onReady;
    volatile Runnable onCancel;
    volatile Throwable error;
    volatile boolean completed;
    volatile boolean cancelled;

    void becomeReady() {
      ready.set(true);
      onReady.run();
    }

    @Override public boolean isCancelled() { return cancelled; }
    @Override public void setOnCancelHandler(Runnable r) { onCancel = r; }
    @Override public void setCompression(String c) {}
    @Override public boolean isReady() { return ready.get(); }
    @Override public void setOnReadyHandler(Runnable r) { onReady = r; }
    @Override public void disableAutoInboundFlowControl() {}
    @Override public void request(int n) {}
    @Override public void setMessageCompression(boolean e) {}
    @Override public void onNext(Integer value) { sent.add(value); }
    @Override public void onError(Throwable t) { error = t; }
    @Override public void onCompleted() { completed = true; }
  }


  @Test
  void aClientThatIsNotReadyHoldsTheSourceBack() throws Exception {
    AtomicInteger produced = new AtomicInteger();
    Call call = new Call();
    BackpressuredStream.run(testKit.system(), Source.range(1, 10_000).map(i -> { produced.incrementAndGet(); return i; }), call, i -> i);
    TimeUnit.MILLISECONDS.sleep(300);
    assertTrue(produced.get() <= 64, "read ahead only a small buffer while the client is not ready: " + produced.get());
    assertEquals(List.of(), call.sent);

    call.becomeReady();
    await("everything is sent", Duration.ofSeconds(10), () -> call.completed);
    assertEquals(IntStream.rangeClosed(1, 10_000).boxed().toList(), call.sent, "in order, each once");
  }

  @Test
  void cancellingStopsTheSourceAndAFailureEndsTheCall() throws Exception {
    AtomicBoolean cancelledUpstream = new AtomicBoolean();
    Call call = new Call();
    call.ready.set(true);
    BackpressuredStream.run(testKit.system(),
        Source.<Integer>never().watchTermination((mat, done) -> { done.thenRun(() -> cancelledUpstream.set(true)); return mat; }),
        call, i -> i);
    call.cancelled = true;
    call.onCancel.run();
    await("the source is cancelled", Duration.ofSeconds(10), cancelledUpstream::get);

    Call failing = new Call();
    failing.ready.set(true);
    BackpressuredStream.run(testKit.system(), Source.<Integer>failed(new IllegalStateException("storage gone")), failing, i -> i);
    await("the call fails", Duration.ofSeconds(10), () -> failing.error != null);
    assertEquals(Status.Code.INTERNAL, Status.fromThrowable(failing.error).getCode());
  }
}
