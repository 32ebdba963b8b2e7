package io.twinfleet.service.alert;

import io.twinfleet.service.TagWatch;
import io.twinfleet.service.device.AlertKind;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.AlertEvent;
import io.twinfleet.service.device.Validation.InvalidField;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Source;

/** Alert changes as a live stream: the alert tags of every slice ({@link DeviceTwin#alertTag}), merged (see {@link TagWatch}). */
public final class AlertWatch {

  /** An alert change of a device, and the token to resume right after it. */
  public record Change(String deviceId, AlertEvent event, String resumeToken) {}

  private final TagWatch watch;

  public AlertWatch(ActorSystem<?> system, int slices) {
    this.watch = new TagWatch(system, slices, DeviceTwin::alertTag, "a1");
  }

  /**
   * Changes of alerts of {@code kinds} (all when empty), from {@code resumeToken}, or when it is
   * empty from now (or from the first ever stored, if {@code fromBeginning}).
   *
   * @throws InvalidField if the token is not one this service issued for alerts and this many slices
   */
  public Source<Change, NotUsed> changes(Set<AlertKind> kinds, String resumeToken, boolean fromBeginning) {
    return watch.events(resumeToken, fromBeginning, (envelope, token) -> {
      if (envelope.event() instanceof AlertEvent e && (kinds.isEmpty() || kinds.contains(e.alert().kind()))) {
        return Optional.of(new Change(PersistenceId.extractEntityId(envelope.persistenceId()), e, token.get()));
      }
      return Optional.empty();
    });
  }
}
