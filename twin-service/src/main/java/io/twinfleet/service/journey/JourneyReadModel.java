package io.twinfleet.service.journey;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.twinfleet.persistence.readmodel.JourneyRepository;
import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.Lifetimes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;

/**
 * The journey read models of one projection slice, kept from groups of device events: each
 * device's row, its listings by stage and site, and the slice's stage funnel.
 *
 * <p>Counts must be exact under at-least-once delivery. A group's changed rows are written in two
 * steps: first the slice's new funnel together with the changed rows themselves (one write, so
 * both or neither are stored), then the rows and their listings. A device row remembers the last
 * event it applied, so an event delivered again is not counted again; and a slice that starts
 * writes the rows stored with its funnel once more, in case it stopped between the two steps. The
 * funnel in memory changes only once its write succeeded.
 */
public final class JourneyReadModel {

  /** Puts a device's coming stage changes on the durable schedule that wakes its twin then. */
  public interface Schedule {
    CompletionStage<Void> schedule(String deviceId, List<Instant> due);
  }

  /** A device row before and after a group of events. */
  record Change(JourneyRow before, JourneyRow after) {}

  private static final TypeReference<List<Change>> CHANGES = new TypeReference<>() {};

  private final JourneyRepository repository;
  private final int slice;
  private final ObjectMapper json;
  private final Lifetimes lifetimes;
  private final Schedule schedule;
  private StageFunnel funnel;

  /** {@code schedule} receives each device's end of life by {@code lifetimes} when it is claimed and when it is activated. */
  public JourneyReadModel(JourneyRepository repository, int slice, ObjectMapper json, Lifetimes lifetimes, Schedule schedule) {
    this.repository = repository;
    this.slice = slice;
    this.json = json;
    this.lifetimes = lifetimes;
    this.schedule = schedule;
  }

  /** Loads the slice's funnel and finishes the rows written with it. */
  public CompletionStage<Void> start() {
    return repository.funnelSlice(slice).thenCompose(stored -> {
      funnel = StageFunnel.of(stored);
      if (stored.pending() == null) {
        return CompletableFuture.completedFuture(null);
      }
      List<Change> pending = decode(stored.pending());
      return scheduleEndsOfLife(pending).thenCompose(scheduled -> storeRows(pending));
    });
  }

  /** Applies a group of envelopes of this slice, in order. */
  public CompletionStage<Void> process(List<EventEnvelope<DeviceTwin.Event>> group) {
    Set<String> ids = new LinkedHashSet<>();
    for (EventEnvelope<DeviceTwin.Event> envelope : group) {
      if (JourneyRows.relevant(envelope.event())) {
        ids.add(PersistenceId.extractEntityId(envelope.persistenceId()));
      }
    }
    if (ids.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return repository.rows(ids).thenCompose(before -> {
      Map<String, JourneyRow> after = new HashMap<>(before);
      for (EventEnvelope<DeviceTwin.Event> envelope : group) {
        if (JourneyRows.relevant(envelope.event())) {
          String id = PersistenceId.extractEntityId(envelope.persistenceId());
          after.put(id, JourneyRows.apply(after.get(id), id, envelope.sequenceNr(), envelope.event()));
        }
      }
      List<Change> changes = new ArrayList<>();
      for (String id : ids) {
        JourneyRow now = after.get(id);
        if (now != null && !Objects.equals(before.get(id), now)) {
          changes.add(new Change(before.get(id), now));
        }
      }
      if (changes.isEmpty()) {
        return CompletableFuture.completedFuture(null);
      }
      StageFunnel counted = funnel.copy();
      for (Change c : changes) {
        counted.count(c.before(), c.after());
      }
      // Scheduling first (idempotent): a group whose rows are stored never needs it again.
      return scheduleEndsOfLife(changes)
          .thenCompose(scheduled -> repository.saveFunnelSlice(slice, counted.toSlice(encode(changes))))
          .thenCompose(saved -> {
            funnel = counted;
            return storeRows(changes);
          });
    });
  }

  /** A claim or an activation fixes when a device's life ends by time (if it does): on the schedule with it. */
  private CompletionStage<Void> scheduleEndsOfLife(List<Change> changes) {
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (Change c : changes) {
      JourneyRow after = c.after();
      boolean claimedOrActivated = c.before() == null || c.before().activatedAt() == null && after.activatedAt() != null;
      Instant endOfLife = claimedOrActivated ? lifetimes.endOfLifeAt(after.model(), after.claimedAt(), after.activatedAt()) : null;
      if (endOfLife != null) {
        writes.add(schedule.schedule(after.deviceId(), List.of(endOfLife)).toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
  }

  private CompletionStage<Void> storeRows(List<Change> changes) {
    CompletableFuture<?>[] writes = changes.stream()
        .map(c -> repository.store(c.before(), c.after()).toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(writes);
  }

  private String encode(List<Change> changes) {
    try {
      return json.writeValueAsString(changes);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("journey rows cannot be encoded", e);
    }
  }

  private List<Change> decode(String pending) {
    try {
      return json.readValue(pending, CHANGES);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("pending journey rows of slice " + slice + " cannot be read", e);
    }
  }
}
