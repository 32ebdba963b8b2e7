package io.twinfleet.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.internal.Telemetry;

/**
 * Meters of every projection instance on this node, through Pekko Projection's instrumentation hook
 * ({@code pekko.projection.telemetry.implementations}): how far behind the journal each event is
 * when its handler takes it (the projection lag, from the event's write time), events whose
 * offsets are stored, handler errors and projection failures. Tagged by projection name only: a
 * name's instances (one per tag slice) add up. The hook is Pekko Projection's instrumentation SPI,
 * which sits in its {@code internal} package: a Pekko Projection upgrade may change it (the
 * compiler says so), and this class with it.
 */
public final class ProjectionTelemetry implements Telemetry {

  private final Timer lag;
  private final Counter stored;
  private final Counter errors;
  private final Counter failures;

  public ProjectionTelemetry(ProjectionId id, ActorSystem<?> system) {
    MeterRegistry registry = ServiceMetrics.get(system).registry();
    String name = id.name();
    lag = Timer.builder("twinfleet.projection.lag")
        .description("From an event's write to its projection handler taking it")
        .tag("projection", name)
        .publishPercentiles(0.5, 0.99)
        .register(registry);
    stored = Counter.builder("twinfleet.projection.events")
        .description("Events whose projection offset is stored")
        .tag("projection", name)
        .register(registry);
    errors = Counter.builder("twinfleet.projection.errors")
        .description("Projection handler errors (each is retried or restarts the projection)")
        .tag("projection", name)
        .register(registry);
    failures = Counter.builder("twinfleet.projection.failures")
        .description("Projection instances that failed and were restarted")
        .tag("projection", name)
        .register(registry);
  }

  @Override
  public <Envelope> Object beforeProcess(Envelope envelope, long creationTimeInNanos) {
    if (envelope instanceof EventEnvelope<?> e) {
      lag.record(Duration.ofMillis(Math.max(0, System.currentTimeMillis() - e.timestamp())));
    }
    return null;
  }

  @Override
  public void afterProcess(Object externalContext) {}

  @Override
  public void onOffsetStored(int numberOfEnvelopes) {
    stored.increment(numberOfEnvelopes);
  }

  @Override
  public void error(Throwable cause) {
    errors.increment();
  }

  @Override
  public void failed(Throwable cause) {
    failures.increment();
  }

  @Override
  public void stopped() {}
}
