package io.twinfleet.service.quality;

import io.twinfleet.persistence.readmodel.QualityRepository;
import io.twinfleet.persistence.readmodel.QualityRepository.HourRow;
import io.twinfleet.persistence.readmodel.QualityRepository.OpenRow;
import io.twinfleet.persistence.readmodel.QualityRepository.SliceRow;
import io.twinfleet.service.quality.QualityBook.Figures;
import io.twinfleet.service.quality.QualityBook.Hour;
import io.twinfleet.service.quality.QualityBook.HourFigures;
import io.twinfleet.service.quality.QualityBook.Key;
import io.twinfleet.service.quality.QualityBook.Open;
import io.twinfleet.service.quality.QualityBook.Value;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Fleet quality from the quality read models: every slice's counts, open episodes and the days of
 * hour rows a window covers, summed, then {@link QualityBook#figures}. A window is whole hours: it
 * starts at the beginning of the hour {@code window} before now.
 */
public final class QualityQueries {

  /** The whole fleet over a window (and, when asked, each hour of it), and its devices now. */
  public record Fleet(Instant from, Instant to, Figures figures, List<HourFigures> hours, long active, long online, long working) {}

  /** One value's share of a window: its devices now, its life and downtime in the window, its share of all downtime. */
  public record Share(String value, long devices, Figures figures, double share) {}

  public record Breakdown(QualityDimension dimension, Instant from, Instant to, long totalOfflineMillis, List<Share> shares) {}

  private record Sums(Map<Value, Long> members, long online, long working, Map<Key, Hour> hours, Map<Key, Open> open) {}

  private final QualityRepository repository;
  private final int slices;

  public QualityQueries(QualityRepository repository, int slices) {
    this.repository = repository;
    this.slices = slices;
  }

  public static Instant windowStart(Instant now, Duration window) {
    return QualityBook.hourOf(now.minus(window));
  }

  public CompletionStage<Fleet> fleet(Duration window, Instant now) {
    return fleet(window, now, false);
  }

  /** As {@link #fleet(Duration, Instant)}, with the figures of every hour of the window when {@code hourly}. */
  public CompletionStage<Fleet> fleet(Duration window, Instant now, boolean hourly) {
    Instant from = windowStart(now, window);
    Value fleet = new Value(QualityDimension.ALL, "");
    return sums(from, now).thenApply(s -> {
      Figures all = QualityBook.figures(from, now, s.members(), s.hours(), s.open()).getOrDefault(fleet, new Figures(0, 0));
      List<HourFigures> hours = hourly ? QualityBook.hourly(fleet, from, now, s.members(), s.hours(), s.open()) : List.of();
      return new Fleet(from, now, all, hours, s.members().getOrDefault(fleet, 0L), s.online(), s.working());
    });
  }

  public CompletionStage<Breakdown> breakdown(QualityDimension dimension, Duration window, Instant now) {
    Instant from = windowStart(now, window);
    return sums(from, now).thenApply(s -> {
      Map<Value, Figures> figures = QualityBook.figures(from, now, s.members(), s.hours(), s.open());
      long total = figures.getOrDefault(new Value(QualityDimension.ALL, ""), new Figures(0, 0)).offlineMillis();
      List<Share> shares = new ArrayList<>();
      figures.forEach((v, f) -> {
        long devices = s.members().getOrDefault(v, 0L);
        if (v.dimension() == dimension && (devices > 0 || f.lifeMillis() > 0 || f.offlineMillis() > 0)) {
          shares.add(new Share(v.value(), devices, f, total == 0 ? 0 : (double) f.offlineMillis() / total));
        }
      });
      shares.sort(Comparator.comparingLong((Share x) -> x.figures().offlineMillis()).reversed().thenComparing(Share::value));
      return new Breakdown(dimension, from, now, total, shares);
    });
  }

  /** Every slice's figures for a window from {@code from}, summed. */
  private CompletionStage<Sums> sums(Instant from, Instant now) {
    List<CompletableFuture<SliceRow>> sliceRows = new ArrayList<>();
    List<CompletableFuture<List<OpenRow>>> openRows = new ArrayList<>();
    List<CompletableFuture<List<HourRow>>> hourRows = new ArrayList<>();
    for (int i = 0; i < slices; i++) {
      sliceRows.add(repository.slice(i).toCompletableFuture());
      openRows.add(repository.open(i).toCompletableFuture());
      for (LocalDate d = QualityRepository.dayOf(from); !d.isAfter(QualityRepository.dayOf(now)); d = d.plusDays(1)) {
        hourRows.add(repository.day(i, d).toCompletableFuture());
      }
    }
    List<CompletableFuture<?>> all = new ArrayList<>(sliceRows);
    all.addAll(openRows);
    all.addAll(hourRows);
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(done -> {
      Map<Value, Long> members = new HashMap<>();
      long online = 0;
      long working = 0;
      for (CompletableFuture<SliceRow> r : sliceRows) {
        r.join().members().forEach((k, n) -> members.merge(QualityReadModel.value(k), n, Long::sum));
        online += r.join().online();
        working += r.join().working();
      }
      Map<Key, Hour> hours = new HashMap<>();
      for (CompletableFuture<List<HourRow>> r : hourRows) {
        for (HourRow h : r.join()) {
          hours.merge(new Key(h.hour(), QualityDimension.valueOf(h.dimension()), h.value()),
              new Hour(h.enter(), h.leave(), h.enterPartialMillis(), h.leavePartialMillis(), h.offlineMillis()),
              (a, b) -> new Hour(a.enter() + b.enter(), a.leave() + b.leave(), a.enterPartialMillis() + b.enterPartialMillis(),
                  a.leavePartialMillis() + b.leavePartialMillis(), a.offlineMillis() + b.offlineMillis()));
        }
      }
      Map<Key, Open> open = new HashMap<>();
      for (CompletableFuture<List<OpenRow>> r : openRows) {
        for (OpenRow o : r.join()) {
          open.merge(new Key(o.hour(), QualityDimension.valueOf(o.dimension()), o.value()), new Open(o.count(), o.sinceSumMillis()),
              (a, b) -> new Open(a.count() + b.count(), a.sinceSumMillis() + b.sinceSumMillis()));
        }
      }
      return new Sums(members, online, working, hours, open);
    });
  }
}
