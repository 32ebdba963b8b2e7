package io.twinfleet.service.device;

import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceDecommissioned;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.javadsl.Handler;

/** Keeps {@code customer_devices} in step with claims, moves and decommissions. Idempotent. */
final class CustomerDevicesProjectionHandler extends Handler<EventEnvelope<DeviceTwin.Event>> {

  private final CustomerDevicesRepository repository;

  CustomerDevicesProjectionHandler(CustomerDevicesRepository repository) {
    this.repository = repository;
  }

  @Override
  public CompletionStage<Done> process(EventEnvelope<DeviceTwin.Event> envelope) {
    String deviceId = PersistenceId.extractEntityId(envelope.persistenceId());
    DeviceTwin.Event event = envelope.event();
    CompletionStage<Void> write;
    if (event instanceof DeviceClaimed e) {
      write = repository.claimed(e.customerId(), deviceId, e.siteId(), e.model(), e.at());
    } else if (event instanceof DeviceMoved e) {
      write = repository.moved(e.customerId(), deviceId, e.toSiteId());
    } else if (event instanceof DeviceDecommissioned e && e.customerId() != null) {
      write = repository.decommissioned(e.customerId(), deviceId);
    } else {
      write = CompletableFuture.completedFuture(null);
    }
    return write.thenApply(done -> Done.getInstance());
  }
}
