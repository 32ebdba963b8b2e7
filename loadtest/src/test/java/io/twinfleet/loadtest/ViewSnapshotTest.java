package io.twinfleet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.twinfleet.protocol.v1.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How two answers of one view are told apart: by the fields that differ, unset told from zero. */
class ViewSnapshotTest {

  private static final Device BASE = Device.newBuilder().setDeviceId("d-1").setOnline(true)
      .setLastSeen(Timestamp.newBuilder().setSeconds(1_000)).build();

  @Test
  void namesEachFieldThatDiffersAndShowsBothValues() {
    Device after = BASE.toBuilder().setOnline(false).setLastSeen(Timestamp.newBuilder().setSeconds(999)).build();
    ViewSnapshot.Difference d = ViewSnapshot.difference("device d-1", BASE, after);
    assertEquals(List.of("online", "last_seen"), d.fields());
    assertTrue(d.before().contains("online=true") && d.after().contains("online=false"), d.toString());
    assertTrue(d.before().contains("seconds: 1000") && d.after().contains("seconds: 999"), d.toString());
  }

  @Test
  void anUnsetOptionalFieldDiffersFromZero() {
    Device zero = BASE.toBuilder().setBatteryPercent(0).build();
    ViewSnapshot.Difference d = ViewSnapshot.difference("device d-1", BASE, zero);
    assertEquals(List.of("battery_percent"), d.fields());
    assertEquals("battery_percent=(unset)", d.before());
  }

  @Test
  void aRefusalOnOneSideIsTheWholeAnswerDiffering() {
    ViewSnapshot.Difference d = ViewSnapshot.difference("device d-1", BASE, "refused: UNAVAILABLE");
    assertEquals(List.of("the answer"), d.fields());
    assertEquals("refused: UNAVAILABLE", d.after());
  }
}
