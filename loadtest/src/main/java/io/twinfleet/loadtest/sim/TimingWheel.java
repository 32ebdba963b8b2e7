package io.twinfleet.loadtest.sim;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * A hashed timing wheel over device numbers: each device waits in the slot of the tick it is due
 * in, on an intrusive linked list (one int per device, no allocation per schedule). A device due
 * more than one revolution ahead waits in its slot for as many turns. Not thread-safe.
 */
public final class TimingWheel {

  private static final int NONE = -1;

  private final long tickMillis;
  private final int mask;
  private final int[] head;
  private final int[] next;
  private final long[] dueTick;
  private long cursor;

  /**
   * @param devices how many device numbers there are
   * @param tickMillis the length of a tick, in the same time unit as the due times
   * @param slots slots per revolution, a power of two
   * @param start the time the wheel starts at
   */
  public TimingWheel(int devices, long tickMillis, int slots, long start) {
    if (Integer.bitCount(slots) != 1 || tickMillis < 1) {
      throw new IllegalArgumentException("slots must be a power of two and ticks at least 1 ms");
    }
    this.tickMillis = tickMillis;
    this.mask = slots - 1;
    this.head = new int[slots];
    this.next = new int[devices];
    this.dueTick = new long[devices];
    Arrays.fill(head, NONE);
    this.cursor = start / tickMillis;
  }

  /** Wakes device {@code i} at {@code due}; a time already passed means the next tick. */
  public void schedule(int i, long due) {
    long tick = Math.max(due / tickMillis, cursor + 1);
    dueTick[i] = tick;
    int slot = (int) (tick & mask);
    next[i] = head[slot];
    head[slot] = i;
  }

  /** Hands every device due up to {@code now} to {@code wake}, tick by tick. */
  public void advance(long now, IntConsumer wake) {
    long target = now / tickMillis;
    while (cursor < target) {
      cursor++;
      int slot = (int) (cursor & mask);
      int i = head[slot];
      head[slot] = NONE;
      while (i != NONE) {
        int following = next[i];
        if (dueTick[i] > cursor) {
          next[i] = head[slot]; // a later revolution
          head[slot] = i;
        } else {
          wake.accept(i);
        }
        i = following;
      }
    }
  }

  /** The time up to which every due device has been handed out. */
  public long now() {
    return cursor * tickMillis;
  }
}
