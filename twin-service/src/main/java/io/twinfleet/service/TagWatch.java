package io.twinfleet.service;

import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.twinfleet.service.device.Validation.InvalidField;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.NoOffset;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.TimeBasedUUID;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The events of one tag per projection slice as one live stream (stage changes, alert changes).
 * Where the stream stands is the offset it reached in each slice's tag, handed out with every event
 * as a resume token; resuming from a token reads each tag on from its offset, so an event is
 * neither missed nor repeated (at least once: an event stored late may come again). One entity's
 * events come in order (one entity, one slice).
 */
public final class TagWatch {

  private static final String NONE = "-";

  private final CassandraReadJournal journal;
  private final int slices;
  private final IntFunction<String> tagOf;
  private final String version;
  /** Offsets before this (the journal's first time bucket) cannot come from this service. */
  private final long firstMillis;

  /** Offsets may lie this far ahead of this node's clock (another node's clock may be ahead). */
  private static final long MAX_AHEAD_MILLIS = 5 * 60_000;

  /** {@code version} marks this watch's tokens, so a token of another watch is refused. */
  public TagWatch(ActorSystem<?> system, int slices, IntFunction<String> tagOf, String version) {
    this.journal = PersistenceQuery.get(system).getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.slices = slices;
    this.tagOf = tagOf;
    this.version = version;
    String firstBucket = system.settings().config().getString("pekko.persistence.cassandra.events-by-tag.first-time-bucket");
    this.firstMillis = LocalDateTime.parse(firstBucket, DateTimeFormatter.ofPattern("yyyyMMdd'T'HH:mm")).toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  /**
   * What {@code map} makes of each event (given the event and its resume token), from {@code
   * resumeToken}, or when it is empty from now (or from the first event ever stored, if {@code
   * fromBeginning}).
   *
   * @throws InvalidField if both a token and {@code fromBeginning} are given, or the token is not
   *     one this watch issued for this many slices
   */
  public <T> Source<T, NotUsed> events(String resumeToken, boolean fromBeginning,
      BiFunction<EventEnvelope, Supplier<String>, Optional<T>> map) {
    if (fromBeginning && !resumeToken.isEmpty()) {
      throw new InvalidField("from_beginning", "set together with resume_token; send one or the other");
    }
    String[] start = resumeToken.isEmpty() ? startOffsets(fromBeginning) : decode(resumeToken);
    return Source.range(0, slices - 1)
        .flatMapMerge(slices, slice -> journal.eventsByTag(tagOf.apply(slice), offset(start[slice])).map(e -> Pair.create(slice, e)))
        .statefulMap(
            start::clone,
            (offsets, tagged) -> {
              EventEnvelope envelope = tagged.second();
              offsets[tagged.first()] = ((TimeBasedUUID) envelope.offset()).value().toString();
              return Pair.create(offsets, map.apply(envelope, () -> encode(offsets)));
            },
            offsets -> Optional.empty())
        .filter(Optional::isPresent)
        .map(Optional::get);
  }

  private String[] startOffsets(boolean fromBeginning) {
    String[] offsets = new String[slices];
    String now = ((TimeBasedUUID) journal.timeBasedUUIDFrom(System.currentTimeMillis())).value().toString();
    Arrays.fill(offsets, fromBeginning ? NONE : now);
    return offsets;
  }

  private static Offset offset(String stored) {
    return stored.equals(NONE) ? NoOffset.getInstance() : Offset.timeBasedUUID(UUID.fromString(stored));
  }

  private String encode(String[] offsets) {
    String plain = version + "," + String.join(",", offsets);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  private String[] decode(String token) {
    String[] parts;
    try {
      parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split(",", -1);
    } catch (IllegalArgumentException e) {
      throw new InvalidField("resume_token", "not a token this service issued");
    }
    if (parts.length != slices + 1 || !parts[0].equals(version)) {
      throw new InvalidField("resume_token", "not a token this service issued for this stream (or issued with other projection-tags)");
    }
    String[] offsets = new String[slices];
    for (int i = 0; i < slices; i++) {
      String part = parts[i + 1];
      if (!part.equals(NONE)) {
        UUID uuid;
        try {
          uuid = UUID.fromString(part);
          if (uuid.version() != 1) {
            throw new IllegalArgumentException("not time-based");
          }
        } catch (IllegalArgumentException e) {
          throw new InvalidField("resume_token", "not a token this service issued");
        }
        long millis = Uuids.unixTimestamp(uuid);
        if (millis < firstMillis || millis > System.currentTimeMillis() + MAX_AHEAD_MILLIS) {
          throw new InvalidField("resume_token", "not a token this service issued: it points at " + Instant.ofEpochMilli(millis)
              + ", before the journal's first time bucket or ahead of now");
        }
      }
      offsets[i] = part;
    }
    return offsets;
  }
}
