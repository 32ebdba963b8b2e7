package io.twinfleet.service.device;

import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.StageMilestonesRepository;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.device.DeviceTwin.DeviceActivated;
import io.twinfleet.service.device.DeviceTwin.DeviceClaimed;
import io.twinfleet.service.device.DeviceTwin.DeviceDecommissioned;
import io.twinfleet.service.device.DeviceTwin.DeviceMoved;
import io.twinfleet.service.device.DeviceTwin.WentOffline;
import io.twinfleet.service.journey.JourneyReadModel;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * Keeps the device read models of one projection slice in step with groups of device events:
 * {@code customer_devices} with claims, moves and decommissions; {@code stage_milestones} with
 * activations, and with the times at which time alone raises an alert of a sleeping twin (OFFLINE,
 * ONBOARDING_STALLED); the journey read models ({@link JourneyReadModel}). Idempotent: a group
 * delivered again changes nothing. (Alert events stored before they carried the alert tag alone
 * arrive here too and are passed over: the alert projection keeps their rows.)
 */
final class DeviceReadModelsHandler extends Handler<List<EventEnvelope<DeviceTwin.Event>>> {

  private final CustomerDevicesRepository customers;
  private final StageMilestonesRepository milestones;
  private final ServiceClock clock;
  private final Consumer<String> wake;
  private final JourneyReadModel journeys;

  /** When, after a device went offline, its twin is woken to score its churn risk again. */
  private static final Duration[] RESCORE_SILENT = {Duration.ofDays(1), Duration.ofDays(7)};

  private static final Duration ALERT_WAKE_STEP = Duration.ofMinutes(10);

  private final ChurnRiskSettings risk;
  private final AlertSettings alertSettings;

  /**
   * {@code wake} reconciles a device's twin: for milestones already due when they are scheduled.
   * {@code journeys} makes the slice's journey read model, given the schedule to put ends of life on.
   */
  DeviceReadModelsHandler(CustomerDevicesRepository customers, StageMilestonesRepository milestones, ServiceClock clock,
      Consumer<String> wake, DeviceSettings settings, Function<JourneyReadModel.Schedule, JourneyReadModel> journeys) {
    this.risk = settings.churnRisk();
    this.alertSettings = settings.alerts();
    this.customers = customers;
    this.milestones = milestones;
    this.clock = clock;
    this.wake = wake;
    this.journeys = journeys.apply(this::schedule);
  }

  @Override
  public CompletionStage<Done> start() {
    return journeys.start().thenApply(done -> Done.getInstance());
  }

  @Override
  public CompletionStage<Done> process(List<EventEnvelope<DeviceTwin.Event>> group) {
    // A device's claim and move must land in that order.
    return DeviceGroups.inOrderPerDevice(group, (deviceId, envelope) -> process(envelope))
        .thenCompose(done -> journeys.process(group))
        .thenApply(done -> Done.getInstance());
  }

  /** Puts milestones on the durable schedule; a device with one due already is woken at once. */
  CompletionStage<Void> schedule(String deviceId, List<Instant> due) {
    return milestones.schedule(deviceId, due).thenRun(() -> {
      // Scheduled late (the projection caught up, or replays): the scheduler may have looked past
      // it already, so wake the twin now; reconciling twice changes nothing.
      if (due.stream().anyMatch(d -> !d.isAfter(clock.instant()))) {
        wake.accept(deviceId);
      }
    });
  }

  /**
   * Wakes the twin at these times to score its churn risk again, which time alone moves while it
   * sleeps. Times already past are left out (a twin scores itself whenever it wakes), and each is
   * rounded up to the hour, so the drops of a flapping device share a row per hour.
   */
  private CompletionStage<Void> rescore(String deviceId, List<Instant> at) {
    Instant now = clock.instant();
    List<Instant> ahead = at.stream()
        .filter(t -> t.isAfter(now))
        .map(t -> t.truncatedTo(ChronoUnit.HOURS).plus(Duration.ofHours(1)))
        .distinct()
        .toList();
    return ahead.isEmpty() ? CompletableFuture.completedFuture(null) : milestones.schedule(deviceId, ahead);
  }

  /**
   * Wakes the twin at {@code at + after}, rounded up to ten minutes (so the drops of a flapping
   * device share a row), when time alone may raise an alert if nothing else happened; the alert
   * itself is dated exactly. Already due: at once, unless the event is over a day old (a replay of
   * history, whose devices have long been looked at).
   */
  private CompletionStage<Void> alertDue(String deviceId, Instant at, Duration after) {
    Instant exact = at.plus(after);
    long step = ALERT_WAKE_STEP.toMillis();
    Instant due = Instant.ofEpochMilli(Math.floorDiv(exact.toEpochMilli() + step - 1, step) * step);
    Instant now = clock.instant();
    if (due.isAfter(now) || at.isAfter(now.minus(Duration.ofDays(1)))) {
      return schedule(deviceId, List.of(due));
    }
    return CompletableFuture.completedFuture(null);
  }

  private CompletionStage<Void> process(EventEnvelope<DeviceTwin.Event> envelope) {
    String deviceId = PersistenceId.extractEntityId(envelope.persistenceId());
    DeviceTwin.Event event = envelope.event();
    CompletionStage<Void> write;
    if (event instanceof DeviceClaimed e) {
      // Onboarding time adds churn risk while the device stays silent and its twin sleeps.
      write = customers.claimed(e.customerId(), deviceId, e.siteId(), e.model(), e.at())
          .thenCompose(done -> rescore(deviceId, List.of(e.at().plus(risk.onboardingGood()), e.at().plus(risk.onboardingBad()))))
          .thenCompose(done -> alertDue(deviceId, e.at(), alertSettings.onboardingStalledAfter()));
    } else if (event instanceof DeviceMoved e) {
      write = customers.moved(e.customerId(), deviceId, e.toSiteId());
    } else if (event instanceof DeviceDecommissioned e && e.customerId() != null) {
      write = customers.decommissioned(e.customerId(), deviceId);
    } else if (event instanceof DeviceActivated e) {
      write = schedule(deviceId, Stages.milestones(e.at()));
    } else if (event instanceof WentOffline e) {
      // A silent device's twin sleeps, while its churn risk grows.
      write = rescore(deviceId, List.of(e.at().plus(RESCORE_SILENT[0]), e.at().plus(RESCORE_SILENT[1])))
          .thenCompose(done -> alertDue(deviceId, e.at(), alertSettings.offlineAfter()));
    } else {
      write = CompletableFuture.completedFuture(null);
    }
    return write;
  }
}
