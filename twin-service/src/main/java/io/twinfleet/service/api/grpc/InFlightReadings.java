package io.twinfleet.service.api.grpc;

import java.util.concurrent.Semaphore;

/**
 * The readings one node holds, from their arrival to their answer, over all streams and calls: at
 * most {@code max}, so a flood costs bounded memory. A stream takes and returns its readings'
 * permits through its own {@link Account}, which gives back whatever it still holds when the stream
 * ends, and takes nothing after (a batch that raced with the end of its stream leaks no permit).
 */
final class InFlightReadings {

  private final int max;
  private final Semaphore permits;

  InFlightReadings(int max) {
    this.max = max;
    this.permits = new Semaphore(max);
  }

  int max() {
    return max;
  }

  /** Readings held now. */
  int held() {
    return max - permits.availablePermits();
  }

  /** For one reading outside a stream: false if the node holds {@code max} already. */
  boolean tryTakeOne() {
    return permits.tryAcquire();
  }

  void returnOne() {
    permits.release();
  }

  Account account() {
    return new Account();
  }

  /** One stream's share. */
  final class Account {
    private int held;
    private boolean closed;

    /** False, taking nothing, if the node cannot hold {@code n} more or the stream has ended. */
    synchronized boolean take(int n) {
      if (closed || !permits.tryAcquire(n)) {
        return false;
      }
      held += n;
      return true;
    }

    synchronized void give(int n) {
      int back = Math.min(n, held);
      held -= back;
      permits.release(back);
    }

    /** The stream ended: every permit it holds goes back, and it takes no more. */
    synchronized void close() {
      closed = true;
      permits.release(held);
      held = 0;
    }
  }
}
