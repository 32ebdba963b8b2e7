package io.twinfleet.service.journey;

import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.StageChanged;
import io.twinfleet.service.device.Stage;
import io.twinfleet.service.device.Validation.InvalidField;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.NoOffset;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.TimeBasedUUID;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Stage changes as a live stream: the stage tags of every slice ({@link DeviceTwin#stageTag}),
 * merged. Where the stream stands is the offset it reached in each slice's tag, handed out with
 * every change as a resume token; resuming from a token reads each tag on from its offset, so a
 * change is neither missed nor repeated. Changes of one device come in order (one device, one tag).
 */
public final class StageChangeWatch {

  /** A stage change of a device, and the token to resume right after it. */
  public record Change(String deviceId, Stage from, Stage to, Instant at, String resumeToken) {}

  private static final String VERSION = "s1";
  private static final String NONE = "-";

  private final CassandraReadJournal journal;
  private final int slices;

  public StageChangeWatch(ActorSystem<?> system, int slices) {
    this.journal = PersistenceQuery.get(system).getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.slices = slices;
  }

  /**
   * Changes into {@code stages} (all when empty), from {@code resumeToken}, or when it is empty from
   * now (or from the first change ever stored, if {@code fromBeginning}).
   *
   * @throws InvalidField if the token is not one this service issued for this many slices
   */
  public Source<Change, NotUsed> changes(Set<Stage> stages, String resumeToken, boolean fromBeginning) {
    String[] start = resumeToken.isEmpty() ? startOffsets(fromBeginning) : decode(resumeToken);
    return Source.range(0, slices - 1)
        .flatMapMerge(slices, slice -> journal.eventsByTag(DeviceTwin.stageTag(slice), offset(start[slice])).map(e -> Pair.create(slice, e)))
        .statefulMap(
            start::clone,
            (offsets, tagged) -> {
              var envelope = tagged.second();
              offsets[tagged.first()] = ((TimeBasedUUID) envelope.offset()).value().toString();
              Optional<Change> change = Optional.empty();
              if (envelope.event() instanceof StageChanged e && (stages.isEmpty() || stages.contains(e.to()))) {
                String deviceId = PersistenceId.extractEntityId(envelope.persistenceId());
                change = Optional.of(new Change(deviceId, e.from(), e.to(), e.at(), encode(offsets)));
              }
              return Pair.create(offsets, change);
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

  private static String encode(String[] offsets) {
    String plain = VERSION + "," + String.join(",", offsets);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  private String[] decode(String token) {
    String[] parts;
    try {
      parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split(",", -1);
    } catch (IllegalArgumentException e) {
      throw new InvalidField("resume_token", "not a token this service issued");
    }
    if (parts.length != slices + 1 || !parts[0].equals(VERSION)) {
      throw new InvalidField("resume_token", "not a token this service issued (or issued with other projection-tags)");
    }
    String[] offsets = new String[slices];
    for (int i = 0; i < slices; i++) {
      String part = parts[i + 1];
      if (!part.equals(NONE)) {
        try {
          if (UUID.fromString(part).version() != 1) {
            throw new IllegalArgumentException("not time-based");
          }
        } catch (IllegalArgumentException e) {
          throw new InvalidField("resume_token", "not a token this service issued");
        }
      }
      offsets[i] = part;
    }
    return offsets;
  }
}
