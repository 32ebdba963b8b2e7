package io.twinfleet.service.device;

import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.StageMilestonesRepository;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.device.DeviceTwin.DeviceActivated;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceDecommissioned;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * Keeps the device read models in step with device events: {@code customer_devices} with claims,
 * moves and decommissions; {@code stage_milestones} with activations. Idempotent.
 */
final class DeviceReadModelsHandler extends Handler<EventEnvelope<DeviceTwin.Event>> {

  private final CustomerDevicesRepository customers;
  private final StageMilestonesRepository milestones;
  private final ServiceClock clock;
  private final Consumer<String> wake;

  /** {@code wake} reconciles a device's twin: for milestones already due when they are scheduled. */
  DeviceReadModelsHandler(CustomerDevicesRepository customers, StageMilestonesRepository milestones, ServiceClock clock,
      Consumer<String> wake) {
    this.customers = customers;
    this.milestones = milestones;
    this.clock = clock;
    this.wake = wake;
  }

  @Override
  public CompletionStage<Done> process(EventEnvelope<DeviceTwin.Event> envelope) {
    String deviceId = PersistenceId.extractEntityId(envelope.persistenceId());
    DeviceTwin.Event event = envelope.event();
    CompletionStage<Void> write;
    if (event instanceof DeviceClaimed e) {
      write = customers.claimed(e.customerId(), deviceId, e.siteId(), e.model(), e.at());
    } else if (event instanceof DeviceMoved e) {
      write = customers.moved(e.customerId(), deviceId, e.toSiteId());
    } else if (event instanceof DeviceDecommissioned e && e.customerId() != null) {
      write = customers.decommissioned(e.customerId(), deviceId);
    } else if (event instanceof DeviceActivated e) {
      List<Instant> due = Stages.milestones(e.at());
      write = milestones.schedule(deviceId, due).thenRun(() -> {
        // Scheduled late (the projection caught up, or replays): the scheduler may have looked past
        // it already, so wake the twin now; reconciling twice changes nothing.
        if (!due.get(0).isAfter(clock.instant())) {
          wake.accept(deviceId);
        }
      });
    } else {
      write = CompletableFuture.completedFuture(null);
    }
    return write.thenApply(done -> Done.getInstance());
  }
}
