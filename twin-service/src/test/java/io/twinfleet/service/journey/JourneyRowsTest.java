package io.twinfleet.service.journey;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.service.device.DecommissionReason;
import io.twinfleet.service.device.DeviceTwin.CameOnline;
import io.twinfleet.service.device.DeviceTwin.DeviceActivated;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceDecommissioned;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import io.twinfleet.service.device.DeviceTwin.SiteStatus;
import io.twinfleet.service.device.DeviceTwin.StageChanged;
import io.twinfleet.service.device.Stage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JourneyRowsTest {

  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  @Test
  void aDeviceGetsItsRowWhenClaimedAndFollowsItsEvents() {
    assertNull(JourneyRows.apply(null, "d-1", 2, new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, T0)), "no row before the claim");

    JourneyRow claimed = JourneyRows.apply(null, "d-1", 2, new DeviceClaimed("c-1", "s-1", "lock", SiteStatus.UNSEEN, T0));
    assertEquals(new JourneyRow("d-1", "c-1", "s-1", "lock", null, null, T0, null, false, 0, null, null, 2), claimed);

    JourneyRow onboarding = JourneyRows.apply(claimed, "d-1", 3, new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, T0));
    assertEquals("ONBOARDING", onboarding.stage());
    assertEquals(T0, onboarding.stageSince());

    Instant activation = T0.plus(Duration.ofHours(5));
    JourneyRow activated = JourneyRows.apply(onboarding, "d-1", 4, new DeviceActivated(activation));
    JourneyRow day30 = JourneyRows.apply(activated, "d-1", 5, new StageChanged(Stage.ONBOARDING, Stage.DAY_30, activation));
    assertEquals(new JourneyRow("d-1", "c-1", "s-1", "lock", "DAY_30", activation, T0, activation, false, 0, null, null, 5), day30);

    JourneyRow moved = JourneyRows.apply(day30, "d-1", 6, new DeviceMoved("c-1", "s-1", "s-2", SiteStatus.UNSEEN, activation));
    assertEquals("s-2", moved.siteId());
    JourneyRow retired = JourneyRows.apply(moved, "d-1", 7, new DeviceDecommissioned("c-1", DecommissionReason.CHURNED, activation));
    assertTrue(retired.decommissioned());
    assertEquals(7, retired.seqNr());
  }

  @Test
  void anEventTheRowHasAppliedChangesNothing() {
    JourneyRow row = new JourneyRow("d-1", "c-1", "s-1", "lock", "DAY_30", T0, T0, T0, false, 0, null, null, 5);
    assertSame(row, JourneyRows.apply(row, "d-1", 5, new StageChanged(Stage.DAY_30, Stage.DAY_60, T0)));
    assertSame(row, JourneyRows.apply(row, "d-1", 3, new DeviceMoved("c-1", "s-1", "s-9", SiteStatus.UNSEEN, T0)));
  }

  @Test
  void onlyJourneyEventsAreRelevant() {
    assertFalse(JourneyRows.relevant(new CameOnline(T0)));
    for (var e : List.of(new DeviceClaimed("c", "s", "m", SiteStatus.UNSEEN, T0), new StageChanged(Stage.DAY_30, Stage.DAY_60, T0), new DeviceActivated(T0),
        new DeviceMoved("c", "s", "t", SiteStatus.UNSEEN, T0), new DeviceDecommissioned("c", DecommissionReason.BROKEN, T0))) {
      assertTrue(JourneyRows.relevant(e), e.toString());
    }
  }
}
