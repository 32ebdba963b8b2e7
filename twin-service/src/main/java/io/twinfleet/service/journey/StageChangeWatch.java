package io.twinfleet.service.journey;

import io.twinfleet.service.TagWatch;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.StageChanged;
import io.twinfleet.service.device.Stage;
import io.twinfleet.service.device.Validation.InvalidField;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Source;

/** Stage changes as a live stream: the stage tags of every slice ({@link DeviceTwin#stageTag}), merged (see {@link TagWatch}). */
public final class StageChangeWatch {

  /** A stage change of a device, and the token to resume right after it. */
  public record Change(String deviceId, Stage from, Stage to, Instant at, String resumeToken) {}

  private final TagWatch watch;

  public StageChangeWatch(ActorSystem<?> system, int slices) {
    this.watch = new TagWatch(system, slices, DeviceTwin::stageTag, "s1");
  }

  /**
   * Changes into {@code stages} (all when empty), from {@code resumeToken}, or when it is empty from
   * now (or from the first change ever stored, if {@code fromBeginning}).
   *
   * @throws InvalidField if the token is not one this service issued for this many slices
   */
  public Source<Change, NotUsed> changes(Set<Stage> stages, String resumeToken, boolean fromBeginning) {
    return watch.events(resumeToken, fromBeginning, (envelope, token) -> {
      if (envelope.event() instanceof StageChanged e && (stages.isEmpty() || stages.contains(e.to()))) {
        String deviceId = PersistenceId.extractEntityId(envelope.persistenceId());
        return Optional.of(new Change(deviceId, e.from(), e.to(), e.at(), token.get()));
      }
      return Optional.empty();
    });
  }
}
