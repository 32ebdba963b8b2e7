package io.twinfleet.service.quality;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.twinfleet.persistence.readmodel.QualityRepository;
import io.twinfleet.persistence.readmodel.QualityRepository.DeviceRow;
import io.twinfleet.persistence.readmodel.QualityRepository.HourRow;
import io.twinfleet.persistence.readmodel.QualityRepository.OpenRow;
import io.twinfleet.persistence.readmodel.QualityRepository.SliceRow;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.quality.QualityBook.Hour;
import io.twinfleet.service.quality.QualityBook.Key;
import io.twinfleet.service.quality.QualityBook.Open;
import io.twinfleet.service.quality.QualityBook.Value;
import io.twinfleet.service.quality.QualityLedger.Entry;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;

/**
 * The quality read model of one projection slice, kept from groups of device events: each device's
 * row, the slice's hourly ledger ({@link QualityBook}) and its counts now.
 *
 * <p>Exact under at-least-once delivery, as the journey read model is: a device row remembers the
 * last event it applied; a group's new counts are written in one write together with every row the
 * group changed (pending), then the rows; a slice that starts writes its pending rows again. Memory
 * changes only once both writes succeeded.
 */
public final class QualityReadModel {

  /** Rows written with the slice's counts: hour rows, open rows and device rows, with absolute values. */
  record Pending(List<HourRow> hours, List<OpenRow> open, Map<String, DeviceRow> devices) {}

  /** Days of hour rows kept in memory at most; beyond, they are read again when needed. */
  static final int KEPT_DAYS = 40;

  private final QualityRepository repository;
  private final int slice;
  private final ObjectMapper json;
  private Map<Value, Long> members = new HashMap<>();
  private long online;
  private long working;
  private final Map<Key, Hour> hours = new HashMap<>();
  private final Set<LocalDate> days = new HashSet<>();
  private final Map<Key, Open> open = new HashMap<>();

  public QualityReadModel(QualityRepository repository, int slice, ObjectMapper json) {
    this.repository = repository;
    this.slice = slice;
    this.json = json;
  }

  /** Loads the slice's counts and open episodes, and finishes the rows written with the counts. */
  public CompletionStage<Void> start() {
    return repository.slice(slice).thenCompose(stored -> {
      members = new HashMap<>();
      stored.members().forEach((k, n) -> members.put(value(k), n));
      online = stored.online();
      working = stored.working();
      CompletionStage<Void> redo = stored.pending() == null ? CompletableFuture.completedFuture(null) : storeRows(decode(stored.pending()));
      return redo.thenCompose(done -> repository.open(slice)).thenAccept(rows -> {
        open.clear();
        for (OpenRow r : rows) {
          open.put(new Key(r.hour(), QualityDimension.valueOf(r.dimension()), r.value()), new Open(r.count(), r.sinceSumMillis()));
        }
      });
    });
  }

  /** Applies a group of envelopes of this slice, in order. */
  public CompletionStage<Void> process(List<EventEnvelope<DeviceTwin.Event>> group) {
    Set<String> ids = new LinkedHashSet<>();
    for (EventEnvelope<DeviceTwin.Event> e : group) {
      if (QualityLedger.relevant(e.event())) {
        ids.add(PersistenceId.extractEntityId(e.persistenceId()));
      }
    }
    if (ids.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return repository.devices(ids).thenCompose(stored -> {
      Map<String, QualityDevice> devices = new HashMap<>();
      stored.forEach((id, row) -> devices.put(id, read(row.state(), QualityDevice.class)));
      Map<String, QualityDevice> changed = new HashMap<>();
      List<Entry> entries = new ArrayList<>();
      long[] deltas = new long[2]; // online, working
      for (EventEnvelope<DeviceTwin.Event> e : group) {
        if (!QualityLedger.relevant(e.event())) {
          continue;
        }
        String id = PersistenceId.extractEntityId(e.persistenceId());
        QualityDevice before = devices.get(id);
        QualityLedger.Applied a = QualityLedger.apply(before, id, e.sequenceNr(), e.event());
        if (a.device() != null && a.device() != before) {
          deltas[0] += onLine(a.device()) - onLine(before);
          deltas[1] += (a.device().working() ? 1 : 0) - (before != null && before.working() ? 1 : 0);
          devices.put(id, a.device());
          changed.put(id, a.device());
          entries.addAll(a.entries());
        }
      }
      if (changed.isEmpty()) {
        return CompletableFuture.completedFuture(null);
      }
      return loadDays(entries).thenCompose(loaded -> write(changed, entries, deltas));
    });
  }

  private static int onLine(QualityDevice d) {
    return d != null && d.active() && d.online() ? 1 : 0;
  }

  private CompletionStage<Void> write(Map<String, QualityDevice> changed, List<Entry> entries, long[] deltas) {
    Overlay<Key, Hour> newHours = new Overlay<>(hours);
    Overlay<Key, Open> newOpen = new Overlay<>(open);
    Map<Value, Long> newMembers = new HashMap<>(members);
    QualityBook.book(entries, newHours, newOpen, newMembers);
    Map<String, DeviceRow> deviceRows = new HashMap<>();
    changed.forEach((id, d) -> deviceRows.put(id, new DeviceRow(write(d), d.seqNr())));
    Pending pending = new Pending(hourRows(newHours), openRows(newOpen), deviceRows);
    Map<String, Long> storedMembers = new HashMap<>();
    newMembers.forEach((v, n) -> storedMembers.put(v.dimension() + "|" + v.value(), n));
    SliceRow row = new SliceRow(storedMembers, online + deltas[0], working + deltas[1], write(pending));
    return repository.storeSlice(slice, row)
        .thenCompose(done -> storeRows(pending))
        .thenRun(() -> {
          hours.putAll(newHours);
          open.putAll(newOpen);
          members = newMembers;
          online = row.online();
          working = row.working();
        });
  }

  private CompletionStage<Void> storeRows(Pending p) {
    return repository.store(slice, p.hours(), p.open(), p.devices());
  }

  /** Reads the day partitions the entries touch that are not in memory yet. */
  private CompletionStage<Void> loadDays(List<Entry> entries) {
    Set<LocalDate> needed = new HashSet<>();
    for (Entry e : entries) {
      Instant to = e.to() == null ? e.from() : e.to();
      for (LocalDate d = QualityRepository.dayOf(e.from()); !d.isAfter(QualityRepository.dayOf(to)); d = d.plusDays(1)) {
        if (!days.contains(d)) {
          needed.add(d);
        }
      }
    }
    if (needed.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    if (days.size() + needed.size() > KEPT_DAYS) {
      hours.clear();
      days.clear();
    }
    List<CompletableFuture<List<HourRow>>> reads = new ArrayList<>();
    for (LocalDate d : needed) {
      reads.add(repository.day(slice, d).toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenRun(() -> {
      for (CompletableFuture<List<HourRow>> r : reads) {
        for (HourRow h : r.join()) {
          hours.put(new Key(h.hour(), QualityDimension.valueOf(h.dimension()), h.value()),
              new Hour(h.enter(), h.leave(), h.enterPartialMillis(), h.leavePartialMillis(), h.offlineMillis()));
        }
      }
      days.addAll(needed);
    });
  }

  private static List<HourRow> hourRows(Map<Key, Hour> changed) {
    List<HourRow> rows = new ArrayList<>(changed.size());
    changed.forEach((k, h) -> rows.add(new HourRow(k.hour(), k.dimension().name(), k.value(), h.enter(), h.leave(), h.enterPartialMillis(),
        h.leavePartialMillis(), h.offlineMillis())));
    return rows;
  }

  private static List<OpenRow> openRows(Map<Key, Open> changed) {
    List<OpenRow> rows = new ArrayList<>(changed.size());
    changed.forEach((k, o) -> rows.add(new OpenRow(k.hour(), k.dimension().name(), k.value(), o.count(), o.sinceSumMillis())));
    return rows;
  }

  static Value value(String stored) {
    int bar = stored.indexOf('|');
    return new Value(QualityDimension.valueOf(stored.substring(0, bar)), stored.substring(bar + 1));
  }

  private String write(Object value) {
    try {
      return json.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private Pending decode(String pending) {
    return read(pending, Pending.class);
  }

  private <T> T read(String text, Class<T> type) {
    try {
      return json.readValue(text, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable stored quality row: " + e.getMessage(), e);
    }
  }

  /** The changes of a group over the rows in memory: reads fall through to them, writes stay here. */
  static final class Overlay<K, V> extends HashMap<K, V> {
    private final Map<K, V> base;

    Overlay(Map<K, V> base) {
      this.base = base;
    }

    @Override
    public V getOrDefault(Object key, V otherwise) {
      return containsKey(key) ? get(key) : base.getOrDefault(key, otherwise);
    }
  }
}
