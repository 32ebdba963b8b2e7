package io.twinfleet.service;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The watchers of an entity's view, as a set that is null while nobody watches (most entities never
 * are, and a million of them cannot each hold an empty set). The entity's context watches each
 * watcher and tells the entity {@code gone} when it stops.
 */
public final class Watchers {

  private Watchers() {}

  /** {@code set} with {@code watcher} in it (a new set if it was null). */
  public static <T, C> Set<ActorRef<T>> added(Set<ActorRef<T>> set, ActorRef<T> watcher, ActorContext<C> context, C gone) {
    Set<ActorRef<T>> out = set == null ? new HashSet<>(2) : set;
    if (out.add(watcher)) {
      context.watchWith(watcher, gone);
    }
    return out;
  }

  /** {@code set} without {@code watcher}; null once empty. */
  public static <T> Set<ActorRef<T>> removed(Set<ActorRef<T>> set, ActorRef<T> watcher, ActorContext<?> context) {
    if (set != null && set.remove(watcher)) {
      context.unwatch(watcher);
    }
    return set == null || set.isEmpty() ? null : set;
  }

  /** Tells every watcher the view, made once and only if someone watches. */
  public static <T> void tell(Set<ActorRef<T>> set, Supplier<? extends T> view) {
    if (set != null) {
      T v = view.get();
      for (ActorRef<T> w : set) {
        w.tell(v);
      }
    }
  }
}
