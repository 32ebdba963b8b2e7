package io.twinfleet.service.journey;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.twinfleet.persistence.readmodel.JourneyRepository.FunnelSlice;
import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.service.device.Stage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageFunnelTest {

  private static final Instant CLAIM = Instant.parse("2026-03-01T10:00:00Z");

  private static JourneyRow row(String id, String model, String stage, Instant activatedAt) {
    return new JourneyRow(id, "c-1", "s-1", model, stage, CLAIM, CLAIM, activatedAt, false, 0, null, null, 1);
  }

  @Test
  void aStageChangeMovesOneDeviceAndAnActivationIsTimedOnce() {
    StageFunnel funnel = new StageFunnel();
    JourneyRow claimed = row("d-1", "lock", null, null);
    JourneyRow onboarding = row("d-1", "lock", "ONBOARDING", null);
    JourneyRow day30 = row("d-1", "lock", "DAY_30", CLAIM.plus(Duration.ofHours(3)));
    funnel.count(null, claimed);
    assertEquals(0, funnel.devices(Stage.ONBOARDING), "claimed without a stage yet");
    funnel.count(claimed, onboarding);
    assertEquals(1, funnel.devices(Stage.ONBOARDING));
    funnel.count(onboarding, day30);
    funnel.count(day30, row("d-1", "lock", "DAY_60", CLAIM.plus(Duration.ofHours(3))));
    assertEquals(List.of(0L, 0L, 1L), List.of(funnel.devices(Stage.ONBOARDING), funnel.devices(Stage.DAY_30), funnel.devices(Stage.DAY_60)));
    StageFunnel.Activation lock = funnel.activations().iterator().next();
    assertEquals("lock", lock.model());
    assertEquals(1, lock.seconds().getTotalCount(), "timed when activated, not again on later changes");
    assertEquals(3 * 3600, lock.seconds().getMaxValue(), 3 * 3600 * 0.01);
  }

  @Test
  void slicesSumAndFilterByModelAfterARoundTrip() {
    StageFunnel a = new StageFunnel();
    a.count(null, row("d-1", "lock", "DAY_30", CLAIM.plusSeconds(60)));
    a.count(null, row("d-2", "camera", "ONBOARDING", null));
    StageFunnel b = new StageFunnel();
    b.count(null, row("d-3", "lock", "DAY_30", CLAIM.plusSeconds(120)));
    List<FunnelSlice> stored = List.of(a.toSlice(null), b.toSlice("[]"));

    StageFunnel all = StageFunnel.sum(stored, null);
    assertEquals(2, all.devices(Stage.DAY_30));
    assertEquals(1, all.devices(Stage.ONBOARDING));
    StageFunnel locks = StageFunnel.sum(stored, "lock");
    assertEquals(0, locks.devices(Stage.ONBOARDING));
    StageFunnel.Activation lock = locks.activations().iterator().next();
    assertEquals(2, lock.seconds().getTotalCount());
    assertEquals(120, lock.seconds().getMaxValue(), 1.2);
    assertEquals(StageFunnel.of(stored.get(0)).devices(Stage.DAY_30), 1);
  }
}
