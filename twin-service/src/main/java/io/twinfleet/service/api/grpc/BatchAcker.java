package io.twinfleet.service.api.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.twinfleet.protocol.v1.BatchAck;
import io.twinfleet.protocol.v1.Rejection;
import io.twinfleet.service.device.DeviceTwin.ReportListener;
import io.twinfleet.service.device.DeviceTwin.ReportOutcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The ack side of one ReportStream. The stream's readings go to their twins with {@code tell}; each
 * twin answers this actor (no ask, no temporary actor per reading). When every reading of a batch is
 * answered, or the batch's deadline passes, the ack is sent, in batch order, and the stream may
 * read one more batch (flow control). It is the only writer of the response stream.
 */
final class BatchAcker extends AbstractBehavior<ReportListener> {

  sealed interface Message extends ReportListener {}

  /** A batch whose readings are on their way; {@code rejections} already holds the invalid ones. */
  record Track(long key, long batchId, List<String> deviceIds, int routed, List<Rejection> rejections) implements Message {}

  /** The client finished sending: complete once every ack is out. */
  record ClientDone() implements Message {}

  /** End the stream with this status (a malformed batch). */
  record Fail(Status status) implements Message {}

  record ClientGone() implements Message {}

  private record Expired(long key) implements Message {}

  private static final class Pending {
    final long batchId;
    final List<String> deviceIds;
    final BitSet answered = new BitSet();
    final BatchAck.Builder ack;
    int remaining;

    Pending(Track t) {
      batchId = t.batchId();
      deviceIds = t.deviceIds();
      remaining = t.routed();
      ack = BatchAck.newBuilder().setBatchId(t.batchId()).addAllRejections(t.rejections());
      for (Rejection r : t.rejections()) {
        answered.set(r.getIndex());
      }
    }
  }

  static Behavior<ReportListener> create(ServerCallStreamObserver<BatchAck> out, Duration timeout) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new BatchAcker(ctx, timers, out, timeout)));
  }

  private final TimerScheduler<ReportListener> timers;
  private final ServerCallStreamObserver<BatchAck> out;
  private final Duration timeout;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final ArrayDeque<Long> order = new ArrayDeque<>();
  private boolean clientDone;

  private BatchAcker(ActorContext<ReportListener> ctx, TimerScheduler<ReportListener> timers, ServerCallStreamObserver<BatchAck> out, Duration timeout) {
    super(ctx);
    this.timers = timers;
    this.out = out;
    this.timeout = timeout;
  }

  @Override
  public Receive<ReportListener> createReceive() {
    return newReceiveBuilder()
        .onMessage(Track.class, this::onTrack)
        .onMessage(ReportOutcome.class, this::onOutcome)
        .onMessage(Expired.class, this::onExpired)
        .onMessage(ClientDone.class, m -> {
          clientDone = true;
          return flush();
        })
        .onMessage(Fail.class, m -> {
          if (!out.isCancelled()) {
            out.onError(m.status().asRuntimeException());
          }
          return Behaviors.stopped();
        })
        .onMessage(ClientGone.class, m -> Behaviors.stopped())
        .build();
  }

  private Behavior<ReportListener> onTrack(Track t) {
    pending.put(t.key(), new Pending(t));
    order.addLast(t.key());
    if (t.routed() > 0) {
      timers.startSingleTimer(t.key(), new Expired(t.key()), timeout);
    }
    return flush();
  }

  private Behavior<ReportListener> onOutcome(ReportOutcome o) {
    Pending p = pending.get(o.batchKey());
    if (p == null || p.answered.get(o.index())) {
      return this; // late answer for a batch already acked as timed out
    }
    p.answered.set(o.index());
    p.remaining--;
    if (o.error() == null) {
      p.ack.setAccepted(p.ack.getAccepted() + 1);
    } else {
      p.ack.addRejections(rejection(o.index(), p.deviceIds.get(o.index()), o.error().name(), o.message()));
    }
    return p.remaining == 0 ? flush() : this;
  }

  private Behavior<ReportListener> onExpired(Expired e) {
    Pending p = pending.get(e.key());
    if (p != null && p.remaining > 0) {
      for (int i = p.answered.nextClearBit(0); i < p.deviceIds.size(); i = p.answered.nextClearBit(i + 1)) {
        p.ack.addRejections(rejection(i, p.deviceIds.get(i), "UNAVAILABLE",
            "the twin did not answer within " + timeout.toSeconds() + " s; safe to resend"));
        p.answered.set(i);
      }
      p.remaining = 0;
    }
    return flush();
  }

  /** Sends the acks of the finished batches at the head of the queue, in order. */
  private Behavior<ReportListener> flush() {
    while (!order.isEmpty() && pending.get(order.peekFirst()).remaining == 0) {
      long key = order.pollFirst();
      Pending p = pending.remove(key);
      timers.cancel(key);
      if (out.isCancelled()) {
        return Behaviors.stopped();
      }
      out.onNext(p.ack.build());
      out.request(1);
    }
    if (clientDone && order.isEmpty()) {
      if (!out.isCancelled()) {
        out.onCompleted();
      }
      return Behaviors.stopped();
    }
    return this;
  }

  static Rejection rejection(int index, String deviceId, String code, String message) {
    return Rejection.newBuilder().setIndex(index).setDeviceId(deviceId).setCode(code).setMessage(message).build();
  }
}
