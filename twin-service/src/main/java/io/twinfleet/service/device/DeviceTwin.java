package io.twinfleet.service.device;

import io.twinfleet.service.CborSerializable;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.ServiceMetrics;
import io.twinfleet.service.StorageHealth;
import io.twinfleet.service.Watchers;
import io.twinfleet.service.device.DeviceState.Registered;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The twin of one physical device: a sharded, event-sourced actor whose id is the device id.
 *
 * <p>Protocol: {@link Register} creates it; {@link Claim} gives it an owner (stage ONBOARDING); its
 * first {@link Report} after the claim activates it (DAY_30), and time moves it through DAY_60,
 * DAY_90 and MATURE; {@link Decommission} retires it (END_OF_LIFE, terminal: later reports are
 * FAILED_PRECONDITION). {@link Get} and {@link Watch} read it. Commands are answered only after
 * their events are stored.
 *
 * <p>Lifecycle: a report that changes nothing the twin means (a plain heartbeat) updates only
 * {@link LiveTelemetry} in memory, which is checkpointed at most once per checkpoint interval and
 * when the twin stops (passivation, hand-off). One timer per twin notices when its device goes
 * quiet (offline at last seen + offline-after), and one the next journey milestone; neither is
 * restarted per report. After recovery the twin reconciles what time established while it slept.
 * Unknown ids answer NOT_FOUND and passivate at once, so probing ids holds no memory.
 */
public final class DeviceTwin extends EventSourcedBehaviorWithEnforcedReplies<DeviceTwin.Command, DeviceTwin.Event, DeviceState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Device");

  // ---- commands -------------------------------------------------------------------------------

  /** What a twin is asked to do. */
  public sealed interface Command extends CborSerializable {}

  public record Register(String model, String serial, Duration heartbeatInterval, String firmwareVersion, ActorRef<Reply> replyTo)
      implements Command {}

  public record Claim(String customerId, String siteId, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  public record Decommission(DecommissionReason reason, ActorRef<Reply> replyTo) implements Command {}

  /** A validated reading; the outcome goes to {@code replyTo} tagged with the batch key and index. */
  public record Report(Reading reading, long batchKey, int index, ActorRef<ReportListener> replyTo) implements Command {}

  /** Answered with a {@link JourneyAnswer}. */
  public record GetJourney(ActorRef<Reply> replyTo) implements Command {}

  /**
   * Record a touchpoint with the customer; answered with a {@link TouchpointAnswer}.
   * {@code happenedAt} has been checked against the clock, or is null for now; the twin checks it
   * against the claim. A touchpoint with the same id and content is the same one, stored once (a
   * retry without a time matches whenever the first was).
   */
  public record RecordTouchpoint(String touchpointId, TouchpointKind kind, String note, Instant happenedAt, ActorRef<Reply> replyTo)
      implements Command {}

  /** Acknowledge alert {@code number} of this device; answered with an {@link AlertAnswer}. Again: the same answer. */
  public record AcknowledgeAlert(int number, String note, ActorRef<Reply> replyTo) implements Command {}

  /** Resolve alert {@code number} of this device by hand; answered with an {@link AlertAnswer}. Again: the same answer. */
  public record ResolveAlert(int number, String note, ActorRef<Reply> replyTo) implements Command {}

  /** Send the current view now and a new one on every change, until {@link Unwatch} or the watcher stops. */
  public record Watch(ActorRef<ViewSubscriber> watcher) implements Command {}

  public record Unwatch(ActorRef<ViewSubscriber> watcher) implements Command {}

  /** The protocol of an actor that watches twins: it receives {@link DeviceView}s, and its own messages. */
  public interface ViewSubscriber extends CborSerializable {}

  /** Store what time has established (offline, milestones); sent by timers and after recovery. */
  public record Reconcile() implements Command {}

  /** Sent by the twin's own timer: passivate if nothing has been heard for the passivation time. */
  record IdleCheck() implements Command {}

  /** Sharding's stop message: checkpoint live telemetry, then stop. */
  public record Stop() implements Command {}

  record WatcherGone(ActorRef<ViewSubscriber> watcher) implements Command {}

  // ---- replies --------------------------------------------------------------------------------

  public sealed interface Reply extends CborSerializable {}

  public record Accepted(DeviceView view) implements Reply {}

  public record Rejected(ErrorCode code, String message) implements Reply {}

  public record JourneyAnswer(JourneyView journey) implements Reply {}

  public record TouchpointAnswer(Touchpoint touchpoint) implements Reply {}

  /**
   * An alert as it stands, with its device as the read models list it; {@code stored} when the
   * command changed it, as event {@code seqNr} of the twin.
   */
  public record AlertAnswer(Alert alert, AlertSubject device, boolean stored, long seqNr) implements Reply {}

  /** The protocol of an actor that collects report outcomes: it receives {@link ReportOutcome}s, and its own messages. */
  public interface ReportListener extends CborSerializable {}

  /**
   * The outcome of one reading: {@code error} is null when it was accepted; {@code retryAfter}, real
   * time, is set for RESOURCE_EXHAUSTED.
   */
  public record ReportOutcome(long batchKey, int index, ErrorCode error, String message, Duration retryAfter) implements ReportListener {
    public ReportOutcome(long batchKey, int index, ErrorCode error, String message) {
      this(batchKey, index, error, message, null);
    }
  }

  // ---- events ---------------------------------------------------------------------------------

  /** Facts about a device, stored before anyone is told. */
  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  public record DeviceRegistered(String model, String serial, Duration heartbeatInterval, String firmwareVersion, Instant at)
      implements Event {}

  /**
   * Carries the model so read models need no second lookup, and how the device stands as it joins
   * its site (null in claims stored before sites were kept).
   */
  public record DeviceClaimed(String customerId, String siteId, String model, SiteStatus status, Instant at) implements Event {}

  /** Carries how the device stands as it joins its new site (null in moves stored before sites were kept). */
  public record DeviceMoved(String customerId, String fromSiteId, String toSiteId, SiteStatus status, Instant at) implements Event {}

  /**
   * What a site needs to know of a device that joins it; the site follows the device's later events
   * from there. {@code criticalFaults} are the codes of its open critical faults.
   */
  public record SiteStatus(boolean activated, boolean online, boolean inUse, List<String> criticalFaults) implements CborSerializable {

    /** A device that has not reported yet. */
    public static final SiteStatus UNSEEN = new SiteStatus(false, false, false, List.of());

    public SiteStatus {
      criticalFaults = criticalFaults == null ? List.of() : List.copyOf(criticalFaults);
    }
  }

  public record DeviceActivated(Instant at) implements Event {}

  public record StageChanged(Stage from, Stage to, Instant at) implements Event {}

  public record CameOnline(Instant at) implements Event {}

  /** {@code at} is when the device became offline (last seen + offline-after), not when it was noticed. */
  public record WentOffline(Instant at) implements Event {}

  public record FirmwareChanged(String from, String to, Instant at) implements Event {}

  public record FaultRaised(String code, Severity severity, Instant at) implements Event {}

  public record FaultCleared(String code, Instant at) implements Event {}

  public record BatteryLow(int percent, Instant at) implements Event {}

  public record BatteryRecovered(int percent, Instant at) implements Event {}

  public record UsageStarted(Instant at) implements Event {}

  public record UsageEnded(Instant at) implements Event {}

  /**
   * Live telemetry stored; {@code graceful} when written because the twin was stopping, so {@code
   * lastSeen} is the real last sighting, not one up to a checkpoint interval old. {@code
   * batteryTrend} is the battery's trend as text (null in checkpoints from before it was stored,
   * and for devices without a battery).
   */
  public record TelemetryCheckpointed(Instant lastSeen, Integer batteryPercent, boolean graceful, String batteryTrend, Instant at)
      implements Event {}

  public record DeviceDecommissioned(String customerId, DecommissionReason reason, Instant at) implements Event {}

  /** The churn risk as scored at {@code at}, stored when it moved enough to matter (see {@link ChurnRisk#worthStoring}). */
  public record ChurnRiskChanged(int score, List<ChurnRisk.Scored> factors, Instant at) implements Event {}

  /** The device as an alert's read model rows need it, when the alert changed. */
  public record AlertSubject(String customerId, String siteId, String model, Stage stage) implements CborSerializable {}

  /** An event that changes one alert; {@code alert} is the alert after it. */
  public sealed interface AlertEvent extends Event {
    Alert alert();

    AlertSubject device();
  }

  public record AlertRaised(Alert alert, AlertSubject device, Instant at) implements AlertEvent {}

  public record AlertAcknowledged(Alert alert, AlertSubject device, Instant at) implements AlertEvent {}

  /** Resolved by hand. */
  public record AlertResolved(Alert alert, AlertSubject device, Instant at) implements AlertEvent {}

  /** Its condition ended: resolved automatically, unless someone resolved it before. */
  public record AlertEnded(Alert alert, AlertSubject device, Instant at) implements AlertEvent {}

  /** A touchpoint that happened at {@code happenedAt}, stored at {@code at}. */
  public record TouchpointRecorded(String touchpointId, TouchpointKind kind, String note, Instant happenedAt, Instant at)
      implements Event {}

  // ---- wiring ---------------------------------------------------------------------------------

  /**
   * Starts sharding for twins on this node; returns the region to send envelopes to. Twins are
   * remembered: sharding records which are awake, and when a node dies or hands its shards off,
   * starts them again elsewhere, so their timers (offline, milestones, alerts) go on. Sharding's
   * automatic passivation is off for remembered entities; a twin passivates itself after {@code
   * twinfleet.device.passivate-after} without a message.
   */
  public static ActorRef<ShardingEnvelope<Command>> init(ActorSystem<?> system, DeviceSettings settings, ServiceClock clock) {
    Duration passivateAfter = system.settings().config().getDuration("twinfleet.device.passivate-after");
    boolean remember = system.settings().config().getBoolean("twinfleet.device.remember-twins");
    return ClusterSharding.get(system)
        .init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), settings, clock, ctx.getShard(), passivateAfter))
            .withSettings(ClusterShardingSettings.create(system).withRememberEntities(remember))
            .withStopMessage(new Stop()));
  }

  /** {@code shard} may be null outside sharding (tests); the twin then never asks to passivate. */
  public static Behavior<Command> create(
      String deviceId, DeviceSettings settings, ServiceClock clock, ActorRef<ClusterSharding.ShardCommand> shard) {
    return create(deviceId, settings, clock, shard, Duration.ofMinutes(30));
  }

  /** A twin that asks {@code shard} to passivate it after {@code passivateAfter} (real time) without a message. */
  public static Behavior<Command> create(
      String deviceId, DeviceSettings settings, ServiceClock clock, ActorRef<ClusterSharding.ShardCommand> shard, Duration passivateAfter) {
    if (passivateAfter.isNegative() || passivateAfter.isZero()) {
      throw new IllegalArgumentException("twinfleet.device.passivate-after must be positive, not " + passivateAfter);
    }
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new DeviceTwin(deviceId, settings, clock, ctx, timers, shard, passivateAfter)));
  }

  /** Asks the twin of {@code deviceId} to store what time has established, waking it if it sleeps. */
  public static void reconcile(ClusterSharding sharding, String deviceId) {
    sharding.entityRefFor(ENTITY_KEY, deviceId).tell(new Reconcile());
  }

  /** The projection tag of a device: its events spread over {@code tags} projection instances. */
  public static String tagFor(String deviceId, int tags) {
    return deviceTag(sliceOf(deviceId, tags));
  }

  /** Why a reading beyond the device's rate limit was refused; {@code retryAfter} is real time. */
  static String rateLimited(String deviceId, ReadingRateLimit limit, Duration retryAfter) {
    return "device " + deviceId + " sends more than its limit of " + java.math.BigDecimal.valueOf(limit.perSecond()).stripTrailingZeros().toPlainString()
        + " readings per second (bursts of "
        + limit.burst() + "); this reading changed nothing; send again in " + retryAfter.toMillis() + " ms";
  }

  /** What a device that is not registered gets, and, word for word, an app asking for another customer's device. */
  public static String notRegistered(String deviceId) {
    return "device " + deviceId + " is not registered";
  }

  /** The tag all events of slice {@code slice} carry (checkpoints and alert events aside). */
  public static String deviceTag(int slice) {
    return TAG_PREFIX + slice;
  }

  /**
   * The tag of slice {@code slice} that only stage changes carry (besides their device tag), so
   * stage change watchers read those and nothing else.
   */
  public static String stageTag(int slice) {
    return STAGE_TAG_PREFIX + slice;
  }

  /** The tag of slice {@code slice} that alert events carry (and no other tag), for the alert projection and watchers. */
  public static String alertTag(int slice) {
    return ALERT_TAG_PREFIX + slice;
  }

  /** The projection slice of a device. */
  public static int sliceOf(String deviceId, int tags) {
    return Math.floorMod(deviceId.hashCode(), tags);
  }

  /** The slice of a projection tag made by {@link #tagFor}. */
  public static int sliceOfTag(String tag) {
    return Integer.parseInt(tag.substring(TAG_PREFIX.length()));
  }

  private static final String TAG_PREFIX = "device-";
  private static final String STAGE_TAG_PREFIX = "stage-";
  private static final String ALERT_TAG_PREFIX = "alert-";

  /**
   * One shared tag set per slice and kind, rather than one per twin: [0] device tag, [1] device and
   * stage tag, [2] alert tag alone (alert events are read by the alert projection and watchers only,
   * so they cost one tag write, not two).
   */
  private static Set<String>[] tagSets(String deviceId, int tags) {
    int slice = sliceOf(deviceId, tags);
    Set<String>[][] sets = TAG_SETS;
    if (sets == null || sets.length != tags) {
      @SuppressWarnings("unchecked")
      Set<String>[][] fresh = new Set[tags][];
      for (int i = 0; i < tags; i++) {
        @SuppressWarnings("unchecked")
        Set<String>[] kinds = new Set[] {Set.of(deviceTag(i)), Set.of(deviceTag(i), stageTag(i)), Set.of(alertTag(i))};
        fresh[i] = kinds;
      }
      TAG_SETS = sets = fresh;
    }
    return sets[slice];
  }

  private static volatile Set<String>[][] TAG_SETS;

  private static final String OFFLINE_TIMER = "offline";
  private static final String MILESTONE_TIMER = "milestone";
  private static final String ALERT_TIMER = "alert";
  private static final String IDLE_TIMER = "idle";
  private static final String STORAGE_TIMER = "storage";
  private static final Duration STORAGE_RETRY = Duration.ofSeconds(5);
  private static final Duration MAX_TIMER = Duration.ofDays(7);
  private static final Duration MIN_RECHECK = Duration.ofSeconds(5);

  private final String deviceId;
  private final DeviceSettings settings;
  private final ServiceClock clock;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Set<String>[] tags;
  private LiveTelemetry live = new LiveTelemetry();
  private final ReadingRateLimit.Allowance allowance = new ReadingRateLimit.Allowance();
  private Set<ActorRef<ViewSubscriber>> watchers; // null while nobody watches: most twins never are
  private Instant alertTimerAt; // when the alert timer fires; null when it is not armed
  private final long passivateAfterNanos;
  private final StorageHealth storage;
  private final ServiceMetrics metrics;
  private long lastHeardNanos = System.nanoTime(); // the last message from outside (timers aside)

  private DeviceTwin(
      String deviceId,
      DeviceSettings settings,
      ServiceClock clock,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Duration passivateAfter) {
    super(PersistenceId.of(ENTITY_KEY.name(), deviceId));
    this.deviceId = deviceId;
    this.settings = settings;
    this.clock = clock;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.tags = tagSets(deviceId, settings.projectionTags());
    this.passivateAfterNanos = passivateAfter.toNanos();
    this.storage = StorageHealth.get(context.getSystem());
    this.metrics = ServiceMetrics.get(context.getSystem());
    if (shard != null) {
      timers.startSingleTimer(IDLE_TIMER, new IdleCheck(), passivateAfter);
    }
  }

  @Override
  public DeviceState emptyState() {
    return DeviceState.UNREGISTERED;
  }

  @Override
  public Set<String> tagsFor(Event event) {
    metrics.eventPersisted(ENTITY_KEY.name(), event); // called once per event handed to the journal, never in recovery
    // Checkpoints are frequent and no projection needs them: untagged, they cost no tag_views write.
    if (event instanceof TelemetryCheckpointed) {
      return Set.of();
    }
    return event instanceof StageChanged ? tags[1] : event instanceof AlertEvent ? tags[2] : tags[0];
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<DeviceState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (state instanceof Registered s) {
            live = LiveTelemetry.recoveredFrom(s, settings.alerts().batteryForecastSamples());
            context.getSelf().tell(new Reconcile());
          }
        })
        .build();
  }

  /*
   * Handlers are one dispatch method each rather than Pekko's handler builders: a builder allocates
   * its cases, lambdas and lists per twin (about 3 KB each, measured), which a million twins cannot
   * afford. The event handler is shared by all twins.
   */

  @Override
  public CommandHandlerWithReply<Command, Event, DeviceState> commandHandler() {
    return this::onCommand;
  }

  @Override
  public EventHandler<DeviceState, Event> eventHandler() {
    return EVENT_HANDLER;
  }

  private static final EventHandler<DeviceState, Event> EVENT_HANDLER = DeviceTwin::apply;

  /** The event handler: one line per event, each a method on the immutable state. */
  static DeviceState apply(DeviceState state, Event event) {
    if (!(state instanceof Registered s)) {
      if (event instanceof DeviceRegistered e) {
        return Registered.of(e);
      }
      throw new IllegalStateException("unexpected " + event.getClass().getSimpleName() + " before registration");
    }
    if (event instanceof CameOnline e) return s.cameOnline(e);
    if (event instanceof WentOffline e) return s.wentOffline(e);
    if (event instanceof TelemetryCheckpointed e) return s.checkpointed(e);
    if (event instanceof StageChanged e) return s.stageChanged(e);
    if (event instanceof DeviceActivated e) return s.activate(e);
    if (event instanceof DeviceClaimed e) return s.claim(e);
    if (event instanceof DeviceMoved e) return s.moved(e);
    if (event instanceof FirmwareChanged e) return s.firmwareChanged(e);
    if (event instanceof FaultRaised e) return s.faultRaised(e);
    if (event instanceof FaultCleared e) return s.faultCleared(e);
    if (event instanceof BatteryLow e) return s.batteryLow(e);
    if (event instanceof BatteryRecovered e) return s.batteryRecovered(e);
    if (event instanceof UsageStarted) return s.usage(true);
    if (event instanceof UsageEnded) return s.usage(false);
    if (event instanceof DeviceDecommissioned e) return s.retire(e);
    if (event instanceof TouchpointRecorded e) return s.touchpointRecorded(e);
    if (event instanceof ChurnRiskChanged e) return s.riskScored(e);
    if (event instanceof AlertEvent e) return s.alertChanged(e.alert());
    throw new IllegalStateException("unexpected " + event.getClass().getSimpleName() + " after registration");
  }

  private ReplyEffect<Event, DeviceState> onCommand(DeviceState state, Command command) {
    if (command instanceof IdleCheck) {
      return onIdleCheck();
    }
    if (!(command instanceof Reconcile || command instanceof WatcherGone || command instanceof Stop)) {
      lastHeardNanos = System.nanoTime(); // one clock read per message; the idle timer is never restarted per message
    }
    return state instanceof Registered s ? onCommand(s, command) : onCommandForUnknown(command);
  }

  /** Passivate after the passivation time without a message; otherwise look again when it would be up. */
  private ReplyEffect<Event, DeviceState> onIdleCheck() {
    long quiet = System.nanoTime() - lastHeardNanos;
    if (quiet >= passivateAfterNanos) {
      return passivateNoReply();
    }
    timers.startSingleTimer(IDLE_TIMER, new IdleCheck(), Duration.ofNanos(passivateAfterNanos - quiet));
    return Effect().noReply();
  }

  private ReplyEffect<Event, DeviceState> onCommand(Registered s, Command command) {
    if (command instanceof Report c) return onReport(s, c);
    if (command instanceof Get c) return Effect().reply(c.replyTo(), new Accepted(view(s)));
    if (command instanceof Reconcile c) return onReconcile(s, c);
    if (command instanceof Register c) return onRegisterAgain(s, c);
    if (command instanceof Claim c) return onClaim(s, c);
    if (command instanceof Decommission c) return onDecommission(s, c);
    if (command instanceof GetJourney c) return Effect().reply(c.replyTo(), new JourneyAnswer(journey(s)));
    if (command instanceof RecordTouchpoint c) return onRecordTouchpoint(s, c);
    if (command instanceof AcknowledgeAlert c) return onAlertCommand(s, c.number(), c.note(), false, c.replyTo());
    if (command instanceof ResolveAlert c) return onAlertCommand(s, c.number(), c.note(), true, c.replyTo());
    if (command instanceof Watch c) return onWatch(s, c);
    if (command instanceof Unwatch c) return removeWatcher(c.watcher());
    if (command instanceof WatcherGone c) return removeWatcher(c.watcher());
    if (command instanceof Stop c) return onStop(s, c);
    throw new IllegalArgumentException("unknown command " + command);
  }

  private ReplyEffect<Event, DeviceState> onCommandForUnknown(Command command) {
    if (command instanceof Register c) return onFirstRegister(c);
    if (command instanceof Report c) return onReportForUnknown(c);
    if (command instanceof Get c) return notFound(c.replyTo());
    if (command instanceof Claim c) return notFound(c.replyTo());
    if (command instanceof Decommission c) return notFound(c.replyTo());
    if (command instanceof GetJourney c) return notFound(c.replyTo());
    if (command instanceof RecordTouchpoint c) return notFound(c.replyTo());
    if (command instanceof AcknowledgeAlert c) return notFound(c.replyTo());
    if (command instanceof ResolveAlert c) return notFound(c.replyTo());
    if (command instanceof Watch) return passivateNoReply();
    if (command instanceof Stop) return Effect().stop().thenNoReply();
    return Effect().noReply(); // Unwatch, WatcherGone, Reconcile: nothing to do
  }

  // ---- command handlers -----------------------------------------------------------------------

  private ReplyEffect<Event, DeviceState> onFirstRegister(Register c) {
    if (storage.down()) {
      return unavailable(c.replyTo());
    }
    DeviceRegistered e = new DeviceRegistered(c.model(), c.serial(), heartbeatOf(c), c.firmwareVersion(), clock.instant());
    return Effect().persist(e).thenReply(c.replyTo(), s -> new Accepted(view((Registered) s)));
  }

  private ReplyEffect<Event, DeviceState> onRegisterAgain(Registered s, Register c) {
    DeviceState.Identity id = s.identity();
    if (id.model().equals(c.model()) && id.serial().equals(c.serial()) && id.heartbeatInterval().equals(heartbeatOf(c))) {
      return Effect().reply(c.replyTo(), new Accepted(view(s)));
    }
    return Effect().reply(c.replyTo(), new Rejected(ErrorCode.ALREADY_EXISTS,
        "device " + deviceId + " is already registered as model '" + id.model() + "', serial '" + id.serial()
            + "', heartbeat " + id.heartbeatInterval()));
  }

  private ReplyEffect<Event, DeviceState> onClaim(Registered s, Claim c) {
    if (s.retired()) {
      return Effect().reply(c.replyTo(), new Rejected(ErrorCode.FAILED_PRECONDITION, "device " + deviceId + " is decommissioned"));
    }
    Instant now = clock.instant();
    if (!s.claimed()) {
      List<Event> events = new ArrayList<>(List.of(
          new DeviceClaimed(c.customerId(), c.siteId(), s.identity().model(), s.siteStatus(), now),
          new StageChanged(s.journey().stage(), Stage.ONBOARDING, now)));
      // A model past its end of support: END_OF_LIFE from the claim.
      events.addAll(TelemetryRules.stageChanges((Registered) applied(s, events), now, settings));
      return persistAndReply(withRisk(s, withAlerts(s, events, now), now), c.replyTo());
    }
    if (!s.owner().customerId().equals(c.customerId())) {
      return Effect().reply(c.replyTo(), new Rejected(ErrorCode.FAILED_PRECONDITION,
          "device " + deviceId + " is claimed by another customer; it must be decommissioned first"));
    }
    if (s.owner().siteId().equals(c.siteId())) {
      return Effect().reply(c.replyTo(), new Accepted(view(s)));
    }
    return persistAndReply(List.of(new DeviceMoved(c.customerId(), s.owner().siteId(), c.siteId(), s.siteStatus(), now)), c.replyTo());
  }

  private ReplyEffect<Event, DeviceState> onDecommission(Registered s, Decommission c) {
    if (s.retired()) {
      return Effect().reply(c.replyTo(), new Accepted(view(s)));
    }
    Instant now = clock.instant();
    // Settle what time established and what only memory knew first: a retired twin's view and
    // uptime never change again, after a restart included.
    List<Event> events = TelemetryRules.dueEvents(s, live, now, settings);
    if (live.differsFrom(s) || TelemetryRules.sightingToMark(s, live)) {
      events.add(new TelemetryCheckpointed(live.lastSeen, live.batteryPercent, true, live.packedTrend(), now));
    }
    Stage stage = s.journey().stage();
    for (Event e : events) {
      if (e instanceof StageChanged sc) {
        stage = sc.to();
      }
    }
    events.add(new DeviceDecommissioned(s.owner().customerId(), c.reason(), now));
    if (stage != Stage.END_OF_LIFE) {
      events.add(new StageChanged(stage, Stage.END_OF_LIFE, now));
    }
    return persistAndReply(withAlerts(s, events, now), c.replyTo());
  }

  private ReplyEffect<Event, DeviceState> onRecordTouchpoint(Registered s, RecordTouchpoint c) {
    if (!s.claimed()) {
      return Effect().reply(c.replyTo(), new Rejected(ErrorCode.FAILED_PRECONDITION,
          "device " + deviceId + " is not claimed: a touchpoint is with its customer"));
    }
    Instant now = clock.instant();
    Instant happenedAt = c.happenedAt() != null ? c.happenedAt() : now;
    if (happenedAt.isBefore(s.owner().claimedAt())) {
      return Effect().reply(c.replyTo(), new Rejected(ErrorCode.FAILED_PRECONDITION,
          "at: " + happenedAt + " is before device " + deviceId + " was claimed (" + s.owner().claimedAt() + ")"));
    }
    Touchpoint same = s.journey().touchpoint(c.touchpointId());
    if (same != null) {
      if (same.sameAs(c.touchpointId(), c.kind(), c.note(), c.happenedAt() != null ? c.happenedAt() : same.at())) {
        return Effect().reply(c.replyTo(), new TouchpointAnswer(same));
      }
      return Effect().reply(c.replyTo(), new Rejected(ErrorCode.ALREADY_EXISTS,
          "touchpoint " + c.touchpointId() + " of device " + deviceId + " was recorded with other content"));
    }
    TouchpointRecorded e = new TouchpointRecorded(c.touchpointId(), c.kind(), c.note(), happenedAt, now);
    Touchpoint recorded = Touchpoint.of(e);
    if (storage.down()) {
      return unavailable(c.replyTo());
    }
    return Effect().persist(withRisk(s, List.of(e), now)).thenRun(this::afterPersist).thenReply(c.replyTo(), st -> new TouchpointAnswer(recorded));
  }

  private ReplyEffect<Event, DeviceState> onReport(Registered s, Report c) {
    if (s.retired()) {
      return Effect().reply(c.replyTo(), new ReportOutcome(c.batchKey(), c.index(), ErrorCode.FAILED_PRECONDITION,
          "device " + deviceId + " is decommissioned; its telemetry is refused"));
    }
    Instant now = clock.instant();
    Duration wait = allowance.take(now.toEpochMilli(), settings.readingRateLimit());
    if (wait != null) {
      Duration real = clock.realDelay(wait);
      return Effect().reply(c.replyTo(), new ReportOutcome(c.batchKey(), c.index(), ErrorCode.RESOURCE_EXHAUSTED,
          rateLimited(deviceId, settings.readingRateLimit(), real), real));
    }
    List<Event> events = TelemetryRules.onReading(s, live, c.reading(), now, settings);
    if (storage.down() && !events.isEmpty()) {
      return Effect().reply(c.replyTo(), new ReportOutcome(c.batchKey(), c.index(), ErrorCode.UNAVAILABLE, storage.refusal()));
    }
    live.record(c.reading(), now, settings.alerts().batteryForecastSamples());
    if (storage.down()) {
      // Changes nothing worth storing: memory has it, as for any heartbeat; alerts and the
      // checkpoint it may bring wait for the next report after Cassandra is back.
      notifyWatchers(s);
      return Effect().reply(c.replyTo(), new ReportOutcome(c.batchKey(), c.index(), null, null));
    }
    events = events.isEmpty() ? AlertRules.onPlainReport(s, live, now, settings) : withAlerts(s, events, now);
    ReportOutcome accepted = new ReportOutcome(c.batchKey(), c.index(), null, null);
    if (events.isEmpty() && !TelemetryRules.checkpointDue(s, live, now, settings)) {
      notifyWatchers(s); // last seen moved
      return Effect().reply(c.replyTo(), accepted);
    }
    boolean storesLastSeen = events.stream().anyMatch(e -> e instanceof CameOnline);
    if (!storesLastSeen && TelemetryRules.checkpointDue(s, live, now, settings)) {
      events = new ArrayList<>(events);
      events.add(new TelemetryCheckpointed(live.lastSeen, live.batteryPercent, false, live.packedTrend(), now));
    }
    if (events.size() > 1 || !(events.get(0) instanceof TelemetryCheckpointed)) {
      events = withRisk(s, events, now); // a checkpoint alone changes no fact the risk is made of
    }
    return Effect().persist(events).thenRun(this::afterPersist).thenReply(c.replyTo(), st -> accepted);
  }

  private ReplyEffect<Event, DeviceState> onReportForUnknown(Report c) {
    passivate();
    return Effect().reply(c.replyTo(), new ReportOutcome(c.batchKey(), c.index(), ErrorCode.NOT_FOUND,
        notRegistered(deviceId)));
  }

  private ReplyEffect<Event, DeviceState> onReconcile(Registered s, Reconcile c) {
    Instant now = clock.instant();
    List<Event> events = withRisk(s, withAlerts(s, TelemetryRules.dueEvents(s, live, now, settings), now), now);
    if (events.isEmpty()) {
      armTimers(s);
      return Effect().noReply();
    }
    if (storage.down()) {
      timers.startSingleTimer(STORAGE_TIMER, new Reconcile(), STORAGE_RETRY); // what time established is stored later, at its time
      return Effect().noReply();
    }
    return Effect().persist(events).thenRun(this::afterPersist).thenNoReply();
  }

  private ReplyEffect<Event, DeviceState> onStop(Registered s, Stop c) {
    if (!s.retired() && !storage.down() && (live.differsFrom(s) || TelemetryRules.sightingToMark(s, live))) {
      Instant now = clock.instant();
      return Effect().persist(new TelemetryCheckpointed(live.lastSeen, live.batteryPercent, true, live.packedTrend(), now)).thenStop().thenNoReply();
    }
    return Effect().stop().thenNoReply();
  }

  private ReplyEffect<Event, DeviceState> onWatch(Registered s, Watch c) {
    watchers = Watchers.added(watchers, c.watcher(), context, new WatcherGone(c.watcher()));
    c.watcher().tell(view(s));
    return Effect().noReply();
  }

  private ReplyEffect<Event, DeviceState> removeWatcher(ActorRef<ViewSubscriber> watcher) {
    watchers = Watchers.removed(watchers, watcher, context);
    return Effect().noReply();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private ReplyEffect<Event, DeviceState> persistAndReply(List<Event> events, ActorRef<Reply> replyTo) {
    if (storage.down()) {
      return unavailable(replyTo);
    }
    return Effect().persist(events).thenRun(this::afterPersist).thenReply(replyTo, s -> new Accepted(view((Registered) s)));
  }

  /**
   * {@code events} followed by the churn risk they lead to, if it moved enough to be stored (see
   * {@link ChurnRisk#worthStoring}); unchanged for a device with no risk (unclaimed or retired).
   */
  private List<Event> withRisk(Registered s, List<Event> events, Instant now) {
    Registered n = (Registered) applied(s, events);
    if (!n.claimed() || n.retired()) {
      return events;
    }
    ChurnRisk risk = view(n).churnRisk();
    // A new stage moves the device's listing anyway: its risk goes with it, the stage factor updated.
    boolean newStage = events.stream().anyMatch(e -> e instanceof StageChanged);
    if (!risk.worthStoring(n.journey().riskScore(), n.journey().riskFactors(), settings.churnRisk()) && !(newStage && risk.score() > 0)) {
      return events;
    }
    List<Event> all = new ArrayList<>(events.size() + 1);
    all.addAll(events);
    all.add(new ChurnRiskChanged(risk.score(), risk.factors(), now));
    return all;
  }

  /** {@code events} followed by the alert changes that the state they lead to calls for. */
  private List<Event> withAlerts(Registered s, List<Event> events, Instant now) {
    List<Event> alerts = AlertRules.changes(events.isEmpty() ? s : (Registered) applied(s, events), live, now, settings);
    if (alerts.isEmpty()) {
      return events;
    }
    List<Event> all = new ArrayList<>(events.size() + alerts.size());
    all.addAll(events);
    all.addAll(alerts);
    return all;
  }

  /** Acknowledges ({@code resolve} false) or resolves alert {@code number}; again, the same answer. */
  private ReplyEffect<Event, DeviceState> onAlertCommand(Registered s, int number, String note, boolean resolve, ActorRef<Reply> replyTo) {
    String id = Alert.id(deviceId, number);
    Alert alert = s.alerts().number(number);
    if (alert == null) {
      boolean once = number >= 1 && number <= s.alerts().raised();
      return Effect().reply(replyTo, once
          ? new Rejected(ErrorCode.FAILED_PRECONDITION, "alert " + id + " is resolved and over; ListAlerts shows it")
          : new Rejected(ErrorCode.NOT_FOUND, "device " + deviceId + " has no alert " + number));
    }
    Alert.State state = alert.state();
    if (state == Alert.State.RESOLVED || !resolve && state == Alert.State.ACKNOWLEDGED) {
      if (!resolve && state == Alert.State.RESOLVED) {
        return Effect().reply(replyTo, new Rejected(ErrorCode.FAILED_PRECONDITION,
            "alert " + id + " is already resolved (" + alert.resolution() + " at " + alert.resolvedAt() + ")"));
      }
      return Effect().reply(replyTo, new AlertAnswer(alert, AlertRules.subjectOf(s), false, lastSequenceNumber(context)));
    }
    Instant now = clock.instant();
    Alert changed = resolve ? alert.resolvedByHand(note, now) : alert.acknowledged(note, now);
    AlertSubject device = AlertRules.subjectOf(s);
    Event e = resolve ? new AlertResolved(changed, device, now) : new AlertAcknowledged(changed, device, now);
    if (storage.down()) {
      return unavailable(replyTo);
    }
    return Effect().persist(e).thenRun(this::afterPersist)
        .thenReply(replyTo, st -> new AlertAnswer(changed, device, true, lastSequenceNumber(context)));
  }

  /** The state {@code events} lead to from {@code s}, before they are stored. */
  private static DeviceState applied(DeviceState s, List<Event> events) {
    DeviceState next = s;
    for (Event e : events) {
      next = apply(next, e);
    }
    return next;
  }

  private void afterPersist(DeviceState state) {
    if (state instanceof Registered s) {
      armTimers(s);
      notifyWatchers(s);
    }
  }

  /** At most one offline and one milestone timer; they are armed after events, never per report. */
  private void armTimers(Registered s) {
    if (s.retired()) {
      cancelTimeTimers();
      return;
    }
    Instant now = clock.instant();
    if (s.connectivity().online() && !timers.isTimerActive(OFFLINE_TIMER)) {
      Instant offlineAt = TelemetryRules.offlineAt(s, live, settings);
      if (offlineAt != null) {
        // A window longer than MAX_TIMER (long heartbeats times many) is looked at again within it.
        Duration delay = clock.realDelay(Duration.between(now, offlineAt));
        timers.startSingleTimer(OFFLINE_TIMER, new Reconcile(), capped(delay));
      }
    }
    if (!timers.isTimerActive(MILESTONE_TIMER) && s.claimed()) {
      // The next stage change, on time; or else the next look at the churn risk, which time alone
      // moves too (not more often than MIN_RECHECK in real time, however fast the clock runs). An
      // end of life years away is looked at again within MAX_TIMER (a timer cannot wait that long).
      Instant change = TelemetryRules.nextStageChangeAt(s, now, settings);
      Duration recheck = clock.realDelay(settings.churnRisk().recheckEvery());
      recheck = recheck.compareTo(MIN_RECHECK) < 0 ? MIN_RECHECK : recheck;
      Duration delay = change == null ? recheck : clock.realDelay(Duration.between(now, change));
      delay = delay.compareTo(recheck) > 0 ? recheck : delay;
      timers.startSingleTimer(MILESTONE_TIMER, new Reconcile(), capped(delay));
    }
    // The next alert that time alone raises or ends (OFFLINE, ONBOARDING_STALLED, FLAPPING over),
    // on time while the twin is awake; a sleeping twin is woken by the milestone schedule.
    Instant alertDue = AlertRules.nextDueAt(s, now, settings);
    if (alertDue == null || !timers.isTimerActive(ALERT_TIMER)) {
      alertTimerAt = null;
    }
    if (alertDue != null && !alertDue.equals(alertTimerAt)) {
      // Due already yet not raised: look again a little later rather than at once, over and over.
      Duration delay = alertDue.isAfter(now) ? clock.realDelay(Duration.between(now, alertDue)) : MIN_RECHECK;
      timers.startSingleTimer(ALERT_TIMER, new Reconcile(), capped(delay));
      alertTimerAt = alertDue;
    } else if (alertDue == null) {
      timers.cancel(ALERT_TIMER);
    }
  }

  /** Cancels the timers of what time establishes (a retired twin has none); the idle timer goes on. */
  private void cancelTimeTimers() {
    timers.cancel(OFFLINE_TIMER);
    timers.cancel(MILESTONE_TIMER);
    timers.cancel(ALERT_TIMER);
    alertTimerAt = null;
  }

  /** A timer's delay at most {@link #MAX_TIMER}: what lies further ahead is looked at again by then. */
  private static Duration capped(Duration delay) {
    return delay.compareTo(MAX_TIMER) > 0 ? MAX_TIMER : delay;
  }

  private void notifyWatchers(Registered s) {
    Watchers.tell(watchers, () -> view(s));
  }

  private JourneyView journey(Registered s) {
    return JourneyView.of(deviceId, s, clock.instant(), settings, view(s).churnRisk());
  }

  private DeviceView view(Registered s) {
    return DeviceView.of(deviceId, s, live, clock.instant(), settings);
  }

  private Duration heartbeatOf(Register c) {
    return Objects.requireNonNullElse(c.heartbeatInterval(), settings.defaultHeartbeatInterval());
  }

  /** Cassandra does not answer: refused at once, nothing changed (see {@link StorageHealth}). */
  private ReplyEffect<Event, DeviceState> unavailable(ActorRef<Reply> replyTo) {
    return Effect().reply(replyTo, new Rejected(ErrorCode.UNAVAILABLE, storage.refusal()));
  }

  private ReplyEffect<Event, DeviceState> notFound(ActorRef<Reply> replyTo) {
    passivate();
    return Effect().reply(replyTo, new Rejected(ErrorCode.NOT_FOUND, notRegistered(deviceId)));
  }

  private ReplyEffect<Event, DeviceState> passivateNoReply() {
    passivate();
    return Effect().noReply();
  }

  private void passivate() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
  }
}
