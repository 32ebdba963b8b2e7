package io.twinfleet.service.api.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.twinfleet.protocol.v1.BatchAck;
import io.twinfleet.protocol.v1.Rejection;
import io.twinfleet.service.ServiceMetrics;
import io.twinfleet.service.device.DeviceTwin.ReportListener;
import io.twinfleet.service.device.DeviceTwin.ReportOutcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The ack side of one ReportStream. The stream's readings go to their twins with {@code tell}; each
 * twin answers this actor (no ask, no temporary actor per reading). When every reading of a batch is
 * answered, or the batch's deadline passes, the ack is sent, in batch order, and the stream may
 * read one more batch (flow control). It is the only writer of the response stream. It also returns
 * the batches' shares of the node's readings in flight, each when its readings are answered: after
 * the client went away or the ack said they timed out, it keeps tracking them (a timed-out reading
 * for at most {@link #LATE_LIMIT} timeouts), so a client that cancels or outpaces the twins cannot
 * pile up more than the node's bound in mailboxes.
 */
final class BatchAcker extends AbstractBehavior<ReportListener> {

  sealed interface Message extends ReportListener {}

  /**
   * A batch whose readings are on their way; {@code rejections} already holds the invalid ones;
   * {@code permits} are the node's in-flight permits it holds, returned with its ack.
   */
  record Track(long key, long batchId, List<String> deviceIds, int routed, List<Rejection> rejections, int permits) implements Message {}

  /** The client finished sending: complete once every ack is out. */
  record ClientDone() implements Message {}

  /** End the stream with this status (a malformed batch) once the batches before it are acknowledged. */
  record Fail(Status status) implements Message {}

  record ClientGone() implements Message {}

  private record Expired(long key) implements Message {}

  private record LateOver(long key) implements Message {}

  /** The timer key of a batch's wait for late answers (its own key is its deadline's). */
  private record LateKey(long key) {}

  private static final class Pending {
    final long batchId;
    final List<String> deviceIds;
    final BitSet answered = new BitSet();
    final BatchAck.Builder ack;
    final int permits;
    int remaining;
    /** Readings acked as timed out whose twins have not answered yet: they may still be in a mailbox. */
    int late;

    Pending(Track t) {
      batchId = t.batchId();
      deviceIds = t.deviceIds();
      remaining = t.routed();
      permits = t.permits();
      ack = BatchAck.newBuilder().setBatchId(t.batchId()).addAllRejections(t.rejections());
      for (Rejection r : t.rejections()) {
        answered.set(r.getIndex());
      }
    }
  }

  static Behavior<ReportListener> create(ServerCallStreamObserver<BatchAck> out, Duration timeout, InFlightReadings.Account permits) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new BatchAcker(ctx, timers, out, timeout, permits)));
  }

  private final TimerScheduler<ReportListener> timers;
  private final ServerCallStreamObserver<BatchAck> out;
  private final Duration timeout;
  private final InFlightReadings.Account permits;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final ArrayDeque<Long> order = new ArrayDeque<>();
  private boolean clientDone;
  private Status failure;
  /** The response stream ended (completed, failed, or the client went away): nothing more is written. */
  private boolean closed;
  /** Batches acked with readings timed out, by key, until those readings are answered. */
  private final Map<Long, Pending> late = new HashMap<>();

  /** How many ask timeouts a timed-out reading may keep its permit while its twin has not answered. */
  static final int LATE_LIMIT = 4;

  private final ServiceMetrics metrics;

  private BatchAcker(ActorContext<ReportListener> ctx, TimerScheduler<ReportListener> timers, ServerCallStreamObserver<BatchAck> out, Duration timeout,
      InFlightReadings.Account permits) {
    super(ctx);
    this.timers = timers;
    this.out = out;
    this.timeout = timeout;
    this.permits = permits;
    this.metrics = ServiceMetrics.get(ctx.getSystem());
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
          failure = m.status();
          return flush();
        })
        .onMessage(LateOver.class, m -> {
          Pending p = late.remove(m.key());
          if (p != null) {
            permits.give(p.permits);
          }
          return flush();
        })
        .onMessage(ClientGone.class, m -> {
          closed = true; // no more writes; the batches on their way still hold their permits until answered
          return flush();
        })
        .onSignal(PostStop.class, s -> {
          permits.close();
          return this;
        })
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
    if (p == null) {
      p = late.get(o.batchKey());
    }
    if (p == null || p.answered.get(o.index())) {
      return this;
    }
    if (p.late > 0) { // the batch timed out: this answer comes late, changes no ack, and frees its reading's share
      p.answered.set(o.index());
      if (--p.late == 0 && late.remove(o.batchKey()) != null) {
        timers.cancel(new LateKey(o.batchKey()));
        permits.give(p.permits);
        return flush();
      }
      return this;
    }
    p.answered.set(o.index());
    p.remaining--;
    if (o.error() == null) {
      p.ack.setAccepted(p.ack.getAccepted() + 1);
    } else {
      p.ack.addRejections(rejection(o.index(), p.deviceIds.get(o.index()), o.error().name(), o.message(), o.retryAfter()));
    }
    return p.remaining == 0 ? flush() : this;
  }

  private Behavior<ReportListener> onExpired(Expired e) {
    Pending p = pending.get(e.key());
    if (p != null && p.remaining > 0) {
      for (int i = p.answered.nextClearBit(0); i < p.deviceIds.size(); i = p.answered.nextClearBit(i + 1)) {
        p.ack.addRejections(rejection(i, p.deviceIds.get(i), "UNAVAILABLE",
            "the twin did not answer within " + timeout.toSeconds() + " s; safe to resend", null));
      }
      p.late = p.remaining;
      p.remaining = 0;
    }
    return flush();
  }

  /**
   * Sends the acks of the finished batches at the head of the queue, in order, and ends the stream
   * when it is done. A batch's permits go back with its ack, or, if some of its readings timed out,
   * when their twins answer after all (or {@link #LATE_LIMIT} timeouts later): until then they may
   * still be in a mailbox, and count. The actor stops once nothing it tracks holds a permit.
   */
  private Behavior<ReportListener> flush() {
    closed |= out.isCancelled();
    while (!order.isEmpty() && pending.get(order.peekFirst()).remaining == 0) {
      long key = order.pollFirst();
      Pending p = pending.remove(key);
      timers.cancel(key);
      if (p.late > 0) {
        late.put(key, p);
        timers.startSingleTimer(new LateKey(key), new LateOver(key), timeout.multipliedBy(LATE_LIMIT));
      } else {
        permits.give(p.permits);
      }
      count(p.ack);
      if (!closed) {
        out.onNext(p.ack.build());
        if (failure == null) {
          out.request(1);
        }
      }
    }
    if (order.isEmpty() && !closed && (failure != null || clientDone)) {
      if (failure != null) {
        out.onError(failure.asRuntimeException());
      } else {
        out.onCompleted();
      }
      closed = true;
    }
    return closed && order.isEmpty() && late.isEmpty() ? Behaviors.stopped() : this;
  }

  /** Counts a batch's answers, sent or not: whether or not its sender is still there, they were given. */
  private void count(BatchAck.Builder ack) {
    metrics.readingsAnswered("accepted", ack.getAccepted());
    for (Rejection r : ack.getRejectionsList()) {
      metrics.readingsAnswered(r.getCode(), 1);
    }
  }

  /** {@code retryAfter} may be null. */
  static Rejection rejection(int index, String deviceId, String code, String message, Duration retryAfter) {
    Rejection.Builder r = Rejection.newBuilder().setIndex(index).setDeviceId(deviceId).setCode(code).setMessage(message);
    if (retryAfter != null) {
      r.setRetryAfter(ProtoMapping.duration(retryAfter));
    }
    return r.build();
  }
}
