package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The alerts a twin keeps: those whose condition goes on (open, acknowledged, or resolved by hand),
 * and the last {@link #KEPT_OVER} that are over, oldest first; {@code raised} counts every alert
 * the device ever had, so numbers are never reused. Most twins have none and share {@link #NONE}.
 */
public record Alerts(int raised, List<Alert> kept) implements CborSerializable {

  public static final Alerts NONE = new Alerts(0, List.of());
  static final int KEPT_OVER = 5;

  public Alerts {
    kept = kept == null || kept.isEmpty() ? List.of() : List.copyOf(kept);
  }

  /** The alert of this kind and subject whose condition goes on, or null. */
  public Alert ongoing(AlertKind kind, String subject) {
    for (Alert a : kept) {
      if (!a.over() && a.kind() == kind && a.subject().equals(subject)) {
        return a;
      }
    }
    return null;
  }

  /** The kept alert with this number, or null. */
  public Alert number(int n) {
    for (Alert a : kept) {
      if (a.number() == n) {
        return a;
      }
    }
    return null;
  }

  /** The alerts not resolved yet, oldest first. */
  public List<Alert> unresolved() {
    return kept.stream().filter(a -> a.state() != Alert.State.RESOLVED).toList();
  }

  /** The alerts whose condition goes on. */
  public List<Alert> ongoing() {
    return kept.stream().filter(a -> !a.over()).toList();
  }

  /** With {@code changed} in place of the kept alert of its number, or added as a new one. */
  Alerts with(Alert changed) {
    List<Alert> all = new ArrayList<>(kept.size() + 1);
    boolean replaced = false;
    for (Alert a : kept) {
      if (a.number() == changed.number()) {
        all.add(changed);
        replaced = true;
      } else {
        all.add(a);
      }
    }
    if (!replaced) {
      all.add(changed);
    }
    int over = (int) all.stream().filter(Alert::over).count();
    for (int i = 0; i < all.size() && over > KEPT_OVER; ) {
      if (all.get(i).over()) {
        all.remove(i);
        over--;
      } else {
        i++;
      }
    }
    return new Alerts(Math.max(raised, changed.number()), all);
  }
}
