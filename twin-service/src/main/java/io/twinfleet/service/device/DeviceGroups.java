package io.twinfleet.service.device;

import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;

/** Handling a projection's group of device events. */
public final class DeviceGroups {

  private static final CompletionStage<Void> NOTHING = CompletableFuture.completedFuture(null);

  private DeviceGroups() {}

  /**
   * {@code write} for each event of {@code group}: one device's one after another (the driver gives
   * no ordering between requests in flight together), different devices' at once; completes when
   * all have.
   */
  public static CompletableFuture<Void> inOrderPerDevice(List<EventEnvelope<DeviceTwin.Event>> group,
      BiFunction<String, EventEnvelope<DeviceTwin.Event>, CompletionStage<Void>> write) {
    Map<String, CompletionStage<Void>> byDevice = new HashMap<>();
    for (EventEnvelope<DeviceTwin.Event> envelope : group) {
      byDevice.compute(PersistenceId.extractEntityId(envelope.persistenceId()),
          (id, writes) -> (writes == null ? NOTHING : writes).thenCompose(done -> write.apply(id, envelope)));
    }
    return CompletableFuture.allOf(byDevice.values().stream().map(CompletionStage::toCompletableFuture).toArray(CompletableFuture[]::new));
  }
}
