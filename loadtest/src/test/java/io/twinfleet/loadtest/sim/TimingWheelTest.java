package io.twinfleet.loadtest.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimingWheelTest {

  @Test
  void handsOutDevicesOnlyOnceTheyAreDue() {
    TimingWheel wheel = new TimingWheel(10, 10, 8, 1_000);
    wheel.schedule(0, 1_005); // within the current tick: the next tick
    wheel.schedule(1, 1_050);
    wheel.schedule(2, 1_055);
    wheel.schedule(3, 1_000 + 8 * 10 * 3 + 20); // three revolutions ahead, same slot as 1_020
    wheel.schedule(4, 500); // in the past: the next tick
    List<Integer> woken = new ArrayList<>();
    wheel.advance(1_010, woken::add);
    assertEquals(List.of(4, 0), woken);
    woken.clear();
    wheel.advance(1_049, woken::add);
    assertEquals(List.of(), woken);
    wheel.advance(1_059, woken::add);
    assertEquals(List.of(2, 1), woken);
    woken.clear();
    wheel.advance(1_000 + 8 * 10 * 3 + 19, woken::add);
    assertEquals(List.of(), woken, "a device due revolutions ahead waits its turns");
    wheel.advance(1_000 + 8 * 10 * 3 + 20, woken::add);
    assertEquals(List.of(3), woken);
  }

  @Test
  void aDeviceRescheduledWhileWokenComesBackOnItsNextDueTime() {
    TimingWheel wheel = new TimingWheel(1, 10, 16, 0);
    long[] due = {30};
    List<Long> seen = new ArrayList<>();
    wheel.schedule(0, due[0]);
    wheel.advance(1_000, i -> {
      seen.add(due[0]);
      due[0] += 100;
      wheel.schedule(i, due[0]);
    });
    assertEquals(List.of(30L, 130L, 230L, 330L, 430L, 530L, 630L, 730L, 830L, 930L), seen);
  }
}
