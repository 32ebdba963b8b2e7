package io.twinfleet.service.quality;

import io.twinfleet.service.quality.QualityLedger.Entry;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ledger of the fleet's time, summed per hour, dimension and value, and what a window of it
 * comes to: per value, the device life within the window and the off-line time of it.
 *
 * <p>Per hour a value keeps how many devices entered and left it and, for each, the time from then
 * to the hour's end; and the off-line time booked within the hour. Episodes still open are kept
 * apart, per hour they opened in, as a count and the sum of their starts. With the number of
 * devices under each value now, the life of any window of whole hours up to now follows exactly:
 * the devices under a value at an hour's start are those under it now less those who entered since
 * plus those who left since.
 */
public final class QualityBook {

  private QualityBook() {}

  /** An hour, a dimension and a value. */
  public record Key(Instant hour, QualityDimension dimension, String value) {}

  /** A dimension and a value. */
  public record Value(QualityDimension dimension, String value) {}

  /** One hour of one value. Partial times are from the entry to the hour's end, in milliseconds. */
  public record Hour(long enter, long leave, long enterPartialMillis, long leavePartialMillis, long offlineMillis) {
    public static final Hour ZERO = new Hour(0, 0, 0, 0, 0);
  }

  /** The episodes of one value still open that opened in one hour: how many, and the sum of their starts. */
  public record Open(long count, long sinceSumMillis) {
    public static final Open ZERO = new Open(0, 0);
  }

  /** Life within a window and the off-line time of it, in milliseconds. */
  public record Figures(long lifeMillis, long offlineMillis) {
    public double uptime() {
      return lifeMillis == 0 ? 1 : 1 - (double) offlineMillis / lifeMillis;
    }
  }

  static final long HOUR = Duration.ofHours(1).toMillis();

  public static Instant hourOf(Instant t) {
    return t.truncatedTo(ChronoUnit.HOURS);
  }

  /**
   * Books {@code entries} into {@code hours}, {@code open} and {@code members} (devices under each
   * value), reading the rows it changes through {@code hours}/{@code open} and putting back new ones.
   */
  public static void book(List<Entry> entries, Map<Key, Hour> hours, Map<Key, Open> open, Map<Value, Long> members) {
    for (Entry e : entries) {
      Value v = new Value(e.dimension(), e.value());
      switch (e.kind()) {
        case ENTER -> {
          Key k = key(e.from(), v);
          Hour h = hours.getOrDefault(k, Hour.ZERO);
          hours.put(k, new Hour(h.enter() + 1, h.leave(), h.enterPartialMillis() + toHourEnd(e.from()), h.leavePartialMillis(), h.offlineMillis()));
          members.merge(v, 1L, Long::sum);
        }
        case LEAVE -> {
          Key k = key(e.from(), v);
          Hour h = hours.getOrDefault(k, Hour.ZERO);
          hours.put(k, new Hour(h.enter(), h.leave() + 1, h.enterPartialMillis(), h.leavePartialMillis() + toHourEnd(e.from()), h.offlineMillis()));
          members.merge(v, -1L, Long::sum);
        }
        case OPEN -> {
          Key k = key(e.from(), v);
          Open o = open.getOrDefault(k, Open.ZERO);
          open.put(k, new Open(o.count() + 1, o.sinceSumMillis() + e.from().toEpochMilli()));
        }
        case CLOSE -> {
          Key k = key(e.from(), v);
          Open o = open.getOrDefault(k, Open.ZERO);
          open.put(k, new Open(o.count() - 1, o.sinceSumMillis() - e.from().toEpochMilli()));
        }
        case OFFLINE -> {
          Instant from = e.from();
          while (from.isBefore(e.to())) {
            Instant end = hourOf(from).plusMillis(HOUR);
            Instant to = end.isBefore(e.to()) ? end : e.to();
            Key k = key(from, v);
            Hour h = hours.getOrDefault(k, Hour.ZERO);
            hours.put(k, new Hour(h.enter(), h.leave(), h.enterPartialMillis(), h.leavePartialMillis(),
                h.offlineMillis() + Duration.between(from, to).toMillis()));
            from = to;
          }
        }
      }
    }
  }

  private static Key key(Instant at, Value v) {
    return new Key(hourOf(at), v.dimension(), v.value());
  }

  private static long toHourEnd(Instant t) {
    return hourOf(t).toEpochMilli() + HOUR - t.toEpochMilli();
  }

  /**
   * Per value, its life and off-line time within {@code [from, now)}, {@code from} a whole hour:
   * from the devices under each value now, the hour rows from {@code from} on (later ones too, if
   * any), and every open episode.
   */
  public static Map<Value, Figures> figures(Instant from, Instant now, Map<Value, Long> members, Map<Key, Hour> hours, Map<Key, Open> open) {
    if (!from.equals(hourOf(from))) {
      throw new IllegalArgumentException("a window starts on a whole hour, not " + from);
    }
    Map<Value, Map<Instant, Hour>> byValue = new HashMap<>();
    for (Map.Entry<Key, Hour> e : hours.entrySet()) {
      if (!e.getKey().hour().isBefore(from)) {
        byValue.computeIfAbsent(new Value(e.getKey().dimension(), e.getKey().value()), v -> new HashMap<>()).put(e.getKey().hour(), e.getValue());
      }
    }
    Map<Value, Figures> out = new HashMap<>();
    for (Value v : members.keySet()) {
      byValue.computeIfAbsent(v, x -> new HashMap<>());
    }
    long nowMillis = now.toEpochMilli();
    for (Map.Entry<Value, Map<Instant, Hour>> e : byValue.entrySet()) {
      long life = 0;
      long offline = 0;
      for (Figures f : closedHours(from, now, members.getOrDefault(e.getKey(), 0L), e.getValue())) {
        life += f.lifeMillis();
        offline += f.offlineMillis();
      }
      out.put(e.getKey(), new Figures(life, offline));
    }
    for (Map.Entry<Key, Open> e : open.entrySet()) {
      Open o = e.getValue();
      if (o.count() == 0) {
        continue;
      }
      Value v = new Value(e.getKey().dimension(), e.getKey().value());
      long add = e.getKey().hour().isBefore(from)
          ? o.count() * (nowMillis - from.toEpochMilli())
          : o.count() * nowMillis - o.sinceSumMillis();
      Figures f = out.getOrDefault(v, new Figures(0, 0));
      out.put(v, new Figures(f.lifeMillis(), f.offlineMillis() + Math.max(0, add)));
    }
    return out;
  }

  /** One hour of a window and the figures of its part up to now. */
  public record HourFigures(Instant hour, Figures figures) {}

  /**
   * The figures of {@code v} in every hour of {@code [from, now)}, oldest first, the last one up
   * to now (none that begins at now): {@link #figures} hour by hour, open episodes counted in every hour they cover. They
   * add up to what {@link #figures} gives for the window.
   */
  public static List<HourFigures> hourly(Value v, Instant from, Instant now, Map<Value, Long> members, Map<Key, Hour> hours, Map<Key, Open> open) {
    if (!from.equals(hourOf(from))) {
      throw new IllegalArgumentException("a window starts on a whole hour, not " + from);
    }
    Map<Instant, Hour> rows = new HashMap<>();
    hours.forEach((k, h) -> {
      if (k.dimension() == v.dimension() && k.value().equals(v.value()) && !k.hour().isBefore(from)) {
        rows.put(k.hour(), h);
      }
    });
    Map<Instant, Open> opened = new HashMap<>();
    open.forEach((k, o) -> {
      if (o.count() != 0 && k.dimension() == v.dimension() && k.value().equals(v.value())) {
        opened.put(k.hour(), o);
      }
    });
    List<Figures> closed = closedHours(from, now, members.getOrDefault(v, 0L), rows);
    long nowMillis = now.toEpochMilli();
    List<HourFigures> out = new ArrayList<>(closed.size());
    for (int i = 0; i < closed.size(); i++) {
      Instant h = from.plusMillis(i * HOUR);
      long start = h.toEpochMilli();
      if (start == nowMillis) {
        break; // now is on the hour: the hour it starts has no time in the window yet
      }
      long end = Math.min(start + HOUR, nowMillis);
      long offline = closed.get(i).offlineMillis();
      for (Map.Entry<Instant, Open> e : opened.entrySet()) {
        Instant openedIn = e.getKey();
        Open o = e.getValue();
        if (openedIn.isAfter(h)) {
          continue;
        }
        // Opened in an earlier hour (or before the window): off line all through this one.
        offline += openedIn.equals(h) && !openedIn.isBefore(from) ? Math.max(0, o.count() * end - o.sinceSumMillis()) : o.count() * (end - start);
      }
      out.add(new HourFigures(h, new Figures(closed.get(i).lifeMillis(), offline)));
    }
    return out;
  }

  /**
   * Per hour of {@code [from, now)} of one value, oldest first (worked out newest first, from the
   * devices under it now): its devices' life within the hour
   * (up to now) and the off-line time booked in it by episodes already over. {@code count} is the
   * value's devices now, {@code rows} its hour rows.
   */
  private static List<Figures> closedHours(Instant from, Instant now, long count, Map<Instant, Hour> rows) {
    long nowMillis = now.toEpochMilli();
    long later = 0; // entered minus left from the hour being looked at on
    for (Map.Entry<Instant, Hour> r : rows.entrySet()) {
      if (r.getKey().toEpochMilli() > nowMillis) {
        later += r.getValue().enter() - r.getValue().leave(); // stamped after now: not yet in the window
      }
    }
    List<Figures> out = new ArrayList<>();
    for (Instant h = hourOf(now); !h.isBefore(from); h = h.minusMillis(HOUR)) {
      Hour r = rows.getOrDefault(h, Hour.ZERO);
      long atStart = count - later - (r.enter() - r.leave());
      long end = Math.min(h.toEpochMilli() + HOUR, nowMillis);
      long cut = h.toEpochMilli() + HOUR - end; // the part of the hour after now
      long life = atStart * (end - h.toEpochMilli()) + (r.enterPartialMillis() - r.enter() * cut) - (r.leavePartialMillis() - r.leave() * cut);
      out.add(new Figures(life, r.offlineMillis()));
      later += r.enter() - r.leave();
    }
    Collections.reverse(out);
    return out;
  }
}
