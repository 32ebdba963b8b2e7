package io.twinfleet.service.site;

import io.twinfleet.persistence.readmodel.SitesRepository.SiteRow;
import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.ServiceMetrics;
import io.twinfleet.service.Watchers;
import io.twinfleet.service.device.ErrorCode;
import io.twinfleet.service.quality.Sla;
import io.twinfleet.service.site.SiteState.Maintenance;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The twin of a site (a home, a car park of chargers): the sharded, event-sourced entity {@code Site}
 * whose id is the site id,
 * fed by its devices' events (see {@link SiteUpdates}). It exists from its first device on.
 *
 * <p>Protocol: {@link Apply} hands it a batch of its devices' changes, which it stores (those it has
 * not applied before) and answers with its {@link Summary}; {@link Get}, {@link GetSla} and {@link
 * Watch} read it; {@link DeclareMaintenance} and {@link SetTarget} change what its SLA counts.
 */
public final class SiteTwin extends EventSourcedBehaviorWithEnforcedReplies<SiteTwin.Command, SiteTwin.Event, SiteState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Site");

  // ---- commands -------------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** Changes of the site's devices, each applied once; answered with its {@link Listed} row. */
  public record Apply(List<DeviceChange> changes, ActorRef<Reply> replyTo) implements Command {}

  /** Answered with a {@link Summary}. */
  public record Get(ActorRef<Reply> replyTo) implements Command {}

  /** Answered with an {@link SlaAnswer}. */
  public record GetSla(YearMonth month, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Declares a maintenance window {@code [from, to)} (checked: from before to); answered with a
   * {@link Summary}. The same id with the same window is the same declaration; another window under
   * an id in use is ALREADY_EXISTS.
   */
  public record DeclareMaintenance(String windowId, Instant from, Instant to, String reason, ActorRef<Reply> replyTo)
      implements Command {}

  /** Sets the site's SLA target (checked: above 0, at most 1); answered with a {@link Summary}. */
  public record SetTarget(double target, ActorRef<Reply> replyTo) implements Command {}

  /** Send the current view now and a new one on every change, until {@link Unwatch} or the watcher stops. */
  public record Watch(ActorRef<SiteView> watcher) implements Command {}

  public record Unwatch(ActorRef<SiteView> watcher) implements Command {}

  record WatcherGone(ActorRef<SiteView> watcher) implements Command {}

  // ---- replies --------------------------------------------------------------------------------

  public sealed interface Reply extends CborSerializable {}

  /** The site's view, and the sequence number of its last stored event (orders its read-model rows). */
  public record Summary(SiteView view, long seqNr) implements Reply {}

  /**
   * The site's row in the site list, and the sequence number of its last stored event: what the
   * site-updates projection needs after every batch, without the view's availability windows.
   */
  public record Listed(SiteRow row, long seqNr) implements Reply {}

  public record SlaAnswer(Sla.Result sla) implements Reply {}

  public record Rejected(ErrorCode code, String message) implements Reply {}

  // ---- events ---------------------------------------------------------------------------------

  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  /** Device changes the site applied, in order; {@code at} is when it stored them. */
  public record DevicesChanged(List<DeviceChange> changes, Instant at) implements Event {}

  public record MaintenanceDeclared(String windowId, Instant from, Instant to, String reason, Instant at) implements Event {}

  public record TargetSet(double target, Instant at) implements Event {}

  // ---- wiring ---------------------------------------------------------------------------------

  public static void init(ActorSystem<?> system, SiteSettings settings, ServiceClock clock) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), settings, clock)));
  }

  public static Behavior<Command> create(String siteId, SiteSettings settings, ServiceClock clock) {
    return Behaviors.setup(ctx -> new SiteTwin(siteId, settings, clock, ctx));
  }

  private final String siteId;
  private final SiteSettings settings;
  private final ServiceClock clock;
  private final ActorContext<Command> context;
  private final Duration reorderWindow;
  private Set<ActorRef<SiteView>> watchers; // null while nobody watches
  private final ServiceMetrics metrics;

  /** What a site nobody claimed a device at gets, and, word for word, an app asking for another customer's site. */
  public static String noSite(String siteId) {
    return "no site " + siteId + " (a site exists once a device is claimed at it)";
  }

  private SiteTwin(String siteId, SiteSettings settings, ServiceClock clock, ActorContext<Command> context) {
    super(PersistenceId.of(ENTITY_KEY.name(), siteId));
    this.siteId = siteId;
    this.settings = settings;
    this.clock = clock;
    this.context = context;
    this.reorderWindow = clock.serviceTime(settings.reorderWindow());
    this.metrics = ServiceMetrics.get(context.getSystem());
  }

  /** No projection reads site events; this is where each one handed to the journal is counted (never in recovery). */
  @Override
  public Set<String> tagsFor(Event event) {
    metrics.eventPersisted(ENTITY_KEY.name(), event);
    return Set.of();
  }

  @Override
  public SiteState emptyState() {
    return SiteState.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public EventHandler<SiteState, Event> eventHandler() {
    return (s, event) -> apply(s, event, reorderWindow);
  }

  /** The event handler (public for the stored-event samples); see {@link SiteState#applied}. */
  public static SiteState apply(SiteState s, Event event, Duration reorderWindow) {
    if (event instanceof DevicesChanged e) {
      for (DeviceChange c : e.changes()) {
        s = s.applied(c, reorderWindow);
      }
      return s;
    }
    if (event instanceof MaintenanceDeclared e) {
      return s.withMaintenance(new Maintenance(e.windowId(), e.from(), e.to(), e.reason()), e.at());
    }
    if (event instanceof TargetSet e) {
      return s.withTarget(e.target());
    }
    throw new IllegalStateException("unknown event " + event);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, SiteState> commandHandler() {
    return this::onCommand;
  }

  private ReplyEffect<Event, SiteState> onCommand(SiteState s, Command command) {
    if (command instanceof Apply c) return onApply(s, c);
    if (command instanceof Watch c) return onWatch(s, c);
    if (command instanceof Unwatch c) return removeWatcher(c.watcher());
    if (command instanceof WatcherGone c) return removeWatcher(c.watcher());
    if (!s.exists()) {
      ActorRef<Reply> replyTo = command instanceof Get c ? c.replyTo()
          : command instanceof GetSla c ? c.replyTo()
          : command instanceof DeclareMaintenance c ? c.replyTo()
          : ((SetTarget) command).replyTo();
      context.getLog().debug("site {} asked before any device joined it", siteId);
      return Effect().reply(replyTo, new Rejected(ErrorCode.NOT_FOUND, noSite(siteId)));
    }
    if (command instanceof Get c) return Effect().reply(c.replyTo(), summary(s));
    if (command instanceof GetSla c) return Effect().reply(c.replyTo(), new SlaAnswer(s.sla(c.month(), clock.instant(), settings.defaultTarget())));
    if (command instanceof DeclareMaintenance c) return onDeclare(s, c);
    if (command instanceof SetTarget c) return onSetTarget(s, c);
    throw new IllegalStateException("unknown command " + command);
  }

  private ReplyEffect<Event, SiteState> onApply(SiteState s, Apply c) {
    List<DeviceChange> fresh = new ArrayList<>(c.changes().size());
    SiteState next = s;
    for (DeviceChange change : c.changes()) {
      if (next.isNew(change)) {
        fresh.add(change);
        next = next.applied(change, reorderWindow);
      }
    }
    if (fresh.isEmpty()) {
      return Effect().reply(c.replyTo(), listed(s));
    }
    return Effect().persist(new DevicesChanged(List.copyOf(fresh), clock.instant())).thenRun(this::notifyWatchers)
        .thenReply(c.replyTo(), this::listed);
  }

  private ReplyEffect<Event, SiteState> onDeclare(SiteState s, DeclareMaintenance c) {
    Maintenance existing = s.maintenanceWindow(c.windowId());
    if (existing != null) {
      if (existing.equals(new Maintenance(c.windowId(), c.from(), c.to(), c.reason()))) {
        return Effect().reply(c.replyTo(), summary(s));
      }
      return Effect().reply(c.replyTo(), new Rejected(ErrorCode.ALREADY_EXISTS,
          "maintenance window " + c.windowId() + " of site " + siteId + " is already declared as " + existing.from() + " .. " + existing.to()));
    }
    if (s.maintenance().size() >= settings.maxMaintenanceWindows()) {
      return Effect().reply(c.replyTo(), new Rejected(ErrorCode.FAILED_PRECONDITION,
          "site " + siteId + " has " + s.maintenance().size() + " maintenance windows kept, the most it may have"));
    }
    return persist(new MaintenanceDeclared(c.windowId(), c.from(), c.to(), c.reason(), clock.instant()), c.replyTo());
  }

  private ReplyEffect<Event, SiteState> onSetTarget(SiteState s, SetTarget c) {
    if (s.target() != null && s.target() == c.target()) {
      return Effect().reply(c.replyTo(), summary(s));
    }
    return persist(new TargetSet(c.target(), clock.instant()), c.replyTo());
  }

  private ReplyEffect<Event, SiteState> persist(Event event, ActorRef<Reply> replyTo) {
    return Effect().persist(event).thenRun(this::notifyWatchers).thenReply(replyTo, this::summary);
  }

  private Listed listed(SiteState s) {
    Instant now = clock.instant();
    Sla.Result month = s.sla(YearMonth.from(now.atZone(ZoneOffset.UTC)), now, settings.defaultTarget());
    return new Listed(SiteView.row(siteId, s.counts(), s.stateSince(), month, now), lastSequenceNumber(context));
  }

  private Summary summary(SiteState s) {
    return new Summary(SiteView.of(siteId, s, clock.instant(), settings), lastSequenceNumber(context));
  }

  private ReplyEffect<Event, SiteState> onWatch(SiteState s, Watch c) {
    watchers = Watchers.added(watchers, c.watcher(), context, new WatcherGone(c.watcher()));
    c.watcher().tell(SiteView.of(siteId, s, clock.instant(), settings));
    return Effect().noReply();
  }

  private ReplyEffect<Event, SiteState> removeWatcher(ActorRef<SiteView> watcher) {
    watchers = Watchers.removed(watchers, watcher, context);
    return Effect().noReply();
  }

  private void notifyWatchers(SiteState s) {
    Watchers.tell(watchers, () -> SiteView.of(siteId, s, clock.instant(), settings));
  }
}
