package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.twinfleet.service.MutableClock;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.StorageHealth;
import io.twinfleet.service.device.DeviceTwin.*;
import io.twinfleet.service.quality.Uptime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Device entity against the in-memory journal; every command and event is also serialized. */
class DeviceTwinTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.parseResources("serialization.conf"))
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = off")));

  private static final Instant START = Instant.parse("2026-05-04T08:00:00Z");
  private static final DeviceSettings SETTINGS = DeviceSettings.defaults();
  private static final Duration OFFLINE_AFTER = Duration.ofMinutes(10); // 2 x the default 5 min heartbeat

  private MutableClock clock;
  private EventSourcedBehaviorTestKit<Command, Event, DeviceState> twin;

  @BeforeEach
  void setUp() {
    clock = new MutableClock(START);
    twin = EventSourcedBehaviorTestKit.create(
        testKit.system(), DeviceTwin.create("dev-1", SETTINGS, ServiceClock.accelerated(clock, 1), null));
  }

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private CommandResultWithReply<Command, Event, DeviceState, Reply> register() {
    return twin.<Reply>runCommand(r -> new Register("thermostat-t3", "SN-1", null, "1.0.0", r));
  }

  private void registerAndClaim() {
    register();
    twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r));
  }

  private record Reported(List<Event> events, ReportOutcome reply) {
    boolean hasNoEvents() {
      return events.isEmpty();
    }
  }

  private Reported report(Reading reading) {
    var result = twin.<ReportListener>runCommand(r -> new Report(reading, 7, 3, r));
    return new Reported(result.events(), (ReportOutcome) result.reply());
  }

  /** The events other than churn risk scores and alerts (which their own tests look at). */
  private static List<Event> facts(List<Event> events) {
    return events.stream().filter(e -> !(e instanceof ChurnRiskChanged) && !(e instanceof AlertEvent)).toList();
  }

  /** The alert events among {@code events}. */
  private static List<AlertEvent> alerts(List<Event> events) {
    return events.stream().filter(e -> e instanceof AlertEvent).map(e -> (AlertEvent) e).toList();
  }

  private Reading reading(Integer battery, List<Reading.ReportedFault> faults) {
    return new Reading("dev-1", clock.instant(), battery, null, null, faults);
  }

  private Reading heartbeat() {
    return new Reading("dev-1", clock.instant(), null, null, null, null);
  }

  private Reading battery(int percent) {
    return new Reading("dev-1", clock.instant(), percent, null, null, null);
  }

  private DeviceView view() {
    Reply reply = twin.<Reply>runCommand(Get::new).reply();
    return assertInstanceOf(Accepted.class, reply).view();
  }

  // ---- registration and claim -----------------------------------------------------------------

  @Test
  void registeringTheSameDeviceTwiceIsIdempotent() {
    assertEquals(List.of(new DeviceRegistered("thermostat-t3", "SN-1", Duration.ofMinutes(5), "1.0.0", START)), register().events());
    var again = register();
    assertTrue(again.hasNoEvents());
    assertEquals(Stage.UNCLAIMED, assertInstanceOf(Accepted.class, again.reply()).view().stage());
  }

  @Test
  void registeringAnExistingIdWithOtherDataIsAlreadyExists() {
    register();
    var conflict = twin.<Reply>runCommand(r -> new Register("camera-c1", "SN-1", null, null, r));
    assertTrue(conflict.hasNoEvents());
    assertEquals(ErrorCode.ALREADY_EXISTS, assertInstanceOf(Rejected.class, conflict.reply()).code());
  }

  @Test
  void unknownDeviceIsNotFoundAndStoresNothing() {
    var get = twin.<Reply>runCommand(Get::new);
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, get.reply()).code());
    var rep = report(heartbeat());
    assertTrue(rep.hasNoEvents());
    assertEquals(ErrorCode.NOT_FOUND, rep.reply().error());
    assertEquals(7, rep.reply().batchKey());
    assertEquals(3, rep.reply().index());
  }

  @Test
  void claimPutsTheDeviceIntoOnboarding() {
    register();
    var claim = twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r));
    assertEquals(List.of(
        new DeviceClaimed("cust-1", "site-1", "thermostat-t3", SiteStatus.UNSEEN, START),
        new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, START)), facts(claim.events()));
    DeviceView v = assertInstanceOf(Accepted.class, claim.reply()).view();
    assertEquals(Stage.ONBOARDING, v.stage());
    assertEquals("cust-1", v.customerId());
    assertEquals("site-1", v.siteId());
  }

  @Test
  void sameClaimIsIdempotentAnotherSiteMovesAnotherCustomerIsRefused() {
    registerAndClaim();
    assertTrue(twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r)).hasNoEvents());
    assertEquals(List.of(new DeviceMoved("cust-1", "site-1", "site-2", SiteStatus.UNSEEN, START)),
        twin.<Reply>runCommand(r -> new Claim("cust-1", "site-2", r)).events());
    var other = twin.<Reply>runCommand(r -> new Claim("cust-2", "site-9", r));
    assertTrue(other.hasNoEvents());
    assertEquals(ErrorCode.FAILED_PRECONDITION, assertInstanceOf(Rejected.class, other.reply()).code());
    assertEquals("site-2", view().siteId());
  }

  @Test
  void aMoveCarriesHowTheDeviceStandsForItsNewSite() {
    registerAndClaim();
    report(new Reading("dev-1", clock.instant(), null, null, true, List.of(
        new Reading.ReportedFault("E7", Severity.CRITICAL), new Reading.ReportedFault("W1", Severity.WARNING))));
    var move = twin.<Reply>runCommand(r -> new Claim("cust-1", "site-2", r));
    assertEquals(List.of(new DeviceMoved("cust-1", "site-1", "site-2", new SiteStatus(true, true, true, List.of("E7")), START)),
        move.events());
  }

  // ---- activation and connectivity -------------------------------------------------------------

  @Test
  void firstReportAfterClaimActivatesTheDevice() {
    registerAndClaim();
    clock.advance(Duration.ofHours(3));
    Instant t = clock.instant();
    var first = report(heartbeat());
    assertNull(first.reply().error());
    assertEquals(List.of(new CameOnline(t), new DeviceActivated(t), new StageChanged(Stage.ONBOARDING, Stage.DAY_30, t)), facts(first.events()));
    DeviceView v = view();
    assertEquals(Stage.DAY_30, v.stage());
    assertEquals(t, v.activatedAt());
    assertTrue(v.online());
    assertTrue(v.working());
  }

  @Test
  void aHeartbeatThatChangesNothingStoresNothing() {
    registerAndClaim();
    report(heartbeat());
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMinutes(1));
      var hb = report(heartbeat());
      assertTrue(hb.hasNoEvents(), "heartbeat " + i + " stored " + hb.events());
      assertNull(hb.reply().error());
    }
    assertEquals(clock.instant(), view().lastSeen(), "last seen moves in memory");
  }

  @Test
  void goesOfflineAfterTwoMissedHeartbeats() {
    registerAndClaim();
    Instant lastReport = clock.instant();
    report(heartbeat());
    clock.advance(OFFLINE_AFTER.minusSeconds(1));
    assertTrue(twin.runCommand(new Reconcile()).hasNoEvents());
    assertTrue(view().online());

    clock.advance(Duration.ofSeconds(1));
    assertFalse(view().online(), "the view is offline from the deadline, before the event is stored");
    assertEquals(List.of(new WentOffline(lastReport.plus(OFFLINE_AFTER))), facts(twin.runCommand(new Reconcile()).events()));
    DeviceView v = view();
    assertFalse(v.online());
    assertFalse(v.working());
    assertEquals(lastReport.plus(OFFLINE_AFTER), v.connectivitySince());

    clock.advance(Duration.ofMinutes(30));
    Instant back = clock.instant();
    assertEquals(List.of(new CameOnline(back)), facts(report(heartbeat()).events()));
    assertTrue(view().online());
  }

  @Test
  void aReportLongAfterTheDeadlineRecordsTheMissedOfflineSpell() {
    registerAndClaim();
    Instant lastReport = clock.instant();
    report(heartbeat());
    clock.advance(Duration.ofHours(2));
    assertEquals(List.of(new WentOffline(lastReport.plus(OFFLINE_AFTER)), new CameOnline(clock.instant())), facts(report(heartbeat()).events()));
  }

  // ---- telemetry facts ------------------------------------------------------------------------

  @Test
  void batteryLowAndRecoveredUseHysteresis() {
    registerAndClaim();
    report(battery(25));
    assertTrue(report(battery(21)).hasNoEvents());
    assertEquals(List.of(new BatteryLow(19, clock.instant())), facts(report(battery(19)).events()));
    assertTrue(report(battery(15)).hasNoEvents(), "already low");
    assertTrue(report(battery(25)).hasNoEvents(), "25 is not above the recovery threshold");
    assertTrue(view().batteryLow());
    assertEquals(List.of(new BatteryRecovered(31, clock.instant())), facts(report(battery(31)).events()));
    assertFalse(view().batteryLow());
    assertEquals(31, view().batteryPercent());
  }

  @Test
  void firmwareFaultsAndUsageBecomeEvents() {
    registerAndClaim();
    report(heartbeat());
    Instant t = clock.instant();
    assertEquals(List.of(new FirmwareChanged("1.0.0", "1.1.0", t)),
        report(new Reading("dev-1", t, null, "1.1.0", null, null)).events());
    assertEquals(List.of(new FaultRaised("E42", Severity.CRITICAL, t)),
        facts(report(new Reading("dev-1", t, null, null, null, List.of(new Reading.ReportedFault("E42", Severity.CRITICAL)))).events()));
    DeviceView faulty = view();
    assertEquals(1, faulty.faults().size());
    assertFalse(faulty.working(), "a critical fault stops the device working");
    assertEquals(List.of(new FaultCleared("E42", t)), facts(report(new Reading("dev-1", t, null, null, null, List.of())).events()));
    assertEquals(List.of(new UsageStarted(t)), report(new Reading("dev-1", t, null, null, true, null)).events());
    DeviceView busy = view();
    assertTrue(busy.working());
    assertFalse(busy.available(), "in use is working but not available");
    assertEquals(List.of(new UsageEnded(t)), report(new Reading("dev-1", t, null, null, false, null)).events());
    assertTrue(view().available());
  }

  @Test
  void anOutOfOrderReadingProvesLifeButDoesNotOverwriteValues() {
    registerAndClaim();
    Instant t = clock.instant();
    report(new Reading("dev-1", t, 80, null, null, null));
    var old = report(new Reading("dev-1", t.minusSeconds(60), 10, "0.9.0", null, null));
    assertTrue(old.hasNoEvents());
    assertEquals(80, view().batteryPercent());
  }

  // ---- rate limit -----------------------------------------------------------------------------

  @Test
  void aReadingBeyondTheRateLimitIsResourceExhaustedAndChangesNothing() {
    twin = EventSourcedBehaviorTestKit.create(testKit.system(),
        DeviceTwin.create("dev-1", SETTINGS.withReadingRateLimit(new ReadingRateLimit(0.5, 2)), ServiceClock.accelerated(clock, 1), null));
    registerAndClaim();
    assertNull(report(battery(60)).reply().error());
    clock.advance(Duration.ofMillis(100));
    assertNull(report(battery(59)).reply().error(), "a burst of two");
    Instant lastAccepted = clock.instant();
    clock.advance(Duration.ofMillis(100));

    Reported refused = report(new Reading("dev-1", clock.instant(), 10, "9.9.9", true, List.of(new Reading.ReportedFault("E1", Severity.CRITICAL))));
    assertEquals(ErrorCode.RESOURCE_EXHAUSTED, refused.reply().error());
    assertTrue(refused.hasNoEvents(), "no battery low, firmware, usage or fault");
    assertEquals(Duration.ofMillis(1800), refused.reply().retryAfter(), "after 0.2 s 0.1 of a reading is back; 0.9 more takes 1.8 s");
    assertTrue(refused.reply().message().contains("0.5 readings per second (bursts of 2)"), refused.reply().message());
    DeviceView v = view();
    assertEquals(59, v.batteryPercent());
    assertEquals(lastAccepted, v.lastSeen(), "a refused reading is no sign of life");

    clock.advance(Duration.ofMillis(1800));
    assertNull(report(battery(58)).reply().error(), "accepted once the wait is over");
    assertEquals(58, view().batteryPercent());
  }

  @Test
  void anOfflineWindowLongerThanATimerCanWaitIsLookedAtAgainWithinIt() {
    DeviceSettings d = SETTINGS;
    DeviceSettings longWindows = new DeviceSettings(Duration.ofHours(24), 1000, d.batteryLowBelow(), d.batteryRecoveredAbove(),
        d.checkpointInterval(), d.maxClockSkew(), d.maxReadingAge(), d.readingRateLimit(), d.snapshotEvery(), d.projectionTags(),
        d.lifetimes(), d.churnRisk(), d.alerts());
    twin = EventSourcedBehaviorTestKit.create(testKit.system(), DeviceTwin.create("dev-1", longWindows, ServiceClock.accelerated(clock, 1), null));
    registerAndClaim();
    assertNull(report(battery(60)).reply().error(), "1,000 days until offline: more than a scheduler takes");
    assertTrue(view().online(), "the twin is alive and well");
  }

  // ---- checkpoints and recovery ---------------------------------------------------------------

  @Test
  void liveTelemetryIsCheckpointedOncePerIntervalAndSurvivesRestart() {
    registerAndClaim();
    report(battery(90));
    clock.advance(SETTINGS.checkpointInterval().minusSeconds(1));
    Instant stepTo88 = clock.instant();
    assertTrue(report(battery(88)).hasNoEvents());
    clock.advance(Duration.ofSeconds(1));
    Instant t = clock.instant();
    // the trend goes with it: lowest 87, not charged, the two steps down
    String trend = "87;0;" + stepTo88.getEpochSecond() + ":88," + t.getEpochSecond() + ":87";
    assertEquals(List.of(new TelemetryCheckpointed(t, 87, false, trend, t)), report(battery(87)).events());
    clock.advance(Duration.ofSeconds(30));
    assertTrue(report(battery(86)).hasNoEvents(), "at most one checkpoint per interval");

    twin.restart();
    DeviceView after = view();
    assertEquals(t, after.lastSeen(), "last seen is as of the checkpoint");
    assertEquals(trend, ((DeviceState.Registered) twin.getState()).telemetry().batteryTrend());
    assertEquals(87, after.batteryPercent());
    assertTrue(after.online(), "the stale last seen gets a checkpoint interval of grace, so no false offline");
  }

  @Test
  void stoppingCheckpointsWhatOnlyMemoryKnew() {
    registerAndClaim();
    report(battery(90));
    // A second incarnation of the same twin, driven by plain messages so it can be stopped.
    var live = testKit.spawn(DeviceTwin.create("dev-1", SETTINGS, ServiceClock.accelerated(clock, 1), null));
    TestProbe<ReportListener> outcomes = testKit.createTestProbe();
    clock.advance(Duration.ofMinutes(1));
    Instant t = clock.instant();
    live.tell(new Report(battery(89), 1, 0, outcomes.getRef()));
    assertNull(((ReportOutcome) outcomes.receiveMessage()).error());
    live.tell(new Stop());
    outcomes.expectTerminated(live);

    twin.restart();
    DeviceView after = view();
    assertEquals(t, after.lastSeen(), "the graceful checkpoint stored the last sighting");
    assertEquals(89, after.batteryPercent());
  }

  @Test
  void aTwinAsksToBePassivatedOnlyAfterThePassivationTimeWithoutAMessage() {
    registerAndClaim();
    TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
    Duration after = Duration.ofMillis(600);
    var live = testKit.spawn(DeviceTwin.create("dev-1", SETTINGS, ServiceClock.accelerated(clock, 1), shard.getRef(), after));
    TestProbe<ReportListener> outcomes = testKit.createTestProbe();
    // Messages every 200 ms for 1.2 s keep it awake, though its first idle check falls due meanwhile.
    long lastMessage = 0;
    for (int i = 0; i < 6; i++) {
      lastMessage = System.nanoTime();
      live.tell(new Report(heartbeat(), 1, i, outcomes.getRef()));
      assertNull(((ReportOutcome) outcomes.receiveMessage()).error());
      shard.expectNoMessage(Duration.ofMillis(200));
    }
    // Then silence: it asks its shard to passivate it, once the time has passed since the last message.
    ClusterSharding.Passivate<?> asked = (ClusterSharding.Passivate<?>) shard.expectMessageClass(ClusterSharding.Passivate.class, Duration.ofSeconds(3));
    assertEquals(live, asked.entity());
    assertTrue(System.nanoTime() - lastMessage >= after.toNanos(), "not before the passivation time");
    live.tell(new Stop()); // what the shard then sends: it checkpoints and stops
    outcomes.expectTerminated(live);
  }

  @Test
  void whileCassandraDoesNotAnswerWhatWouldBeStoredIsRefusedAtOnceAndReadsAndHeartbeatsGoOn() {
    registerAndClaim();
    report(heartbeat()); // activated, on line
    DeviceState before = twin.getState();
    StorageHealth storage = StorageHealth.get(testKit.system());
    storage.down("test");
    try {
      clock.advance(Duration.ofMinutes(1));
      Reported upgrade = report(new Reading("dev-1", clock.instant(), null, "2.0.0", null, null));
      assertEquals(ErrorCode.UNAVAILABLE, upgrade.reply().error(), "a reading that changes something is refused");
      assertTrue(upgrade.reply().message().contains("nothing was changed"), upgrade.reply().message());
      assertTrue(upgrade.hasNoEvents());
      assertEquals(before, twin.getState(), "the stored state is unchanged");

      var move = twin.<Reply>runCommand(r -> new Claim("cust-1", "site-2", r));
      assertEquals(ErrorCode.UNAVAILABLE, ((Rejected) move.reply()).code());
      assertTrue(move.hasNoEvents());
      var touchpoint = twin.<Reply>runCommand(r -> new RecordTouchpoint("t-1", TouchpointKind.ONBOARDING_CALL, "hello", clock.instant(), r));
      assertEquals(ErrorCode.UNAVAILABLE, ((Rejected) touchpoint.reply()).code());

      Instant seen = clock.instant();
      Reported beat = report(heartbeat());
      assertNull(beat.reply().error(), "a plain heartbeat is accepted: memory holds it, as always");
      assertTrue(beat.hasNoEvents());
      DeviceView v = view();
      assertEquals(seen, v.lastSeen(), "and reads answer from memory");
      assertEquals("1.0.0", v.firmwareVersion());
    } finally {
      storage.up();
    }
    Reported upgrade = report(new Reading("dev-1", clock.instant(), null, "2.0.0", null, null));
    assertNull(upgrade.reply().error(), "accepted again once Cassandra answers");
    assertEquals("2.0.0", view().firmwareVersion());
  }

  /** Activates the device in another incarnation of its twin, which then stops gracefully; returns the sighting. */
  private Instant activateAndStopGracefully() {
    var live = testKit.spawn(DeviceTwin.create("dev-1", SETTINGS, ServiceClock.accelerated(clock, 1), null));
    TestProbe<ReportListener> outcomes = testKit.createTestProbe();
    Instant t = clock.instant();
    live.tell(new Report(heartbeat(), 1, 0, outcomes.getRef())); // stores CameOnline(t): memory holds nothing more
    assertNull(((ReportOutcome) outcomes.receiveMessage()).error());
    live.tell(new Stop());
    outcomes.expectTerminated(live);
    twin.restart();
    return t;
  }

  @Test
  void aGracefulStopMarksTheLastSightingExactSoSilenceIsNoticedOnTime() {
    registerAndClaim();
    Instant t = activateAndStopGracefully();
    clock.advance(OFFLINE_AFTER);
    assertFalse(view().online(), "no checkpoint interval of grace after a graceful stop");
    twin.runCommand(new Reconcile()); // or the one recovery sent itself, whichever comes first
    DeviceState.Connectivity stored = ((DeviceState.Registered) twin.getState()).connectivity();
    assertFalse(stored.online());
    assertEquals(t.plus(OFFLINE_AFTER), stored.since(), "went offline at the real deadline");
  }

  @Test
  void theFirstReportAfterAWakeClearsTheMarkSoACrashGrantsGraceAgain() {
    registerAndClaim();
    activateAndStopGracefully();
    clock.advance(Duration.ofMinutes(1));
    Instant t = clock.instant();
    assertEquals(List.of(new TelemetryCheckpointed(t, 70, false, "70;0;", t)), report(battery(70)).events());
    clock.advance(Duration.ofMinutes(4));
    Instant last = clock.instant();
    assertTrue(report(battery(69)).hasNoEvents());

    twin.restart(); // a crash: the report at 'last' was only in memory
    clock.advance(Duration.between(clock.instant(), last.plus(OFFLINE_AFTER)).plusMinutes(1));
    assertTrue(view().online(), "the stored sighting is stale, so the grace applies: no invented offline spell");
  }

  // ---- uptime ---------------------------------------------------------------------------------

  private static Duration minutes(long m) {
    return Duration.ofMinutes(m);
  }

  @Test
  void uptimeIsTheShareOfTheLifeSinceActivationNotSpentOffline() {
    registerAndClaim();
    assertNull(view().uptime(), "no uptime before the first report");
    clock.advance(Duration.ofHours(3)); // claimed, not yet reporting: not part of the life
    Instant activated = clock.instant();
    report(heartbeat());
    clock.advance(Duration.ofHours(1));
    report(heartbeat()); // offline from activated + 10 min to now: 50 min
    clock.advance(minutes(30)); // offline again from 10 min ago, not stored yet

    DeviceView.Uptimes u = view().uptime();
    assertEquals(new Uptime.Measure(minutes(90), minutes(70)), u.sinceActivation());
    assertEquals(u.sinceActivation(), u.last24h(), "the whole life lies in the last 24 hours");
    assertEquals(u.sinceActivation(), u.last30d());
    assertEquals(20.0 / 90, u.last24h().ratio(), 1e-12);

    clock.advance(minutes(30));
    report(heartbeat()); // ends the second episode: 50 min
    clock.advance(Duration.ofHours(25)); // and silent since: offline from 10 min after that report
    u = view().uptime();
    assertEquals(new Uptime.Measure(Duration.ofHours(24), Duration.ofHours(24)), u.last24h());
    Duration lived = Duration.between(activated, clock.instant());
    assertEquals(new Uptime.Measure(lived, minutes(100).plus(Duration.ofHours(25)).minus(minutes(10))), u.sinceActivation());
    assertEquals(u.sinceActivation(), u.last7d());
  }

  @Test
  void uptimeEndsAtDecommissioningAndSurvivesRecovery() {
    registerAndClaim();
    report(heartbeat());
    clock.advance(Duration.ofHours(2));
    report(heartbeat()); // 110 min offline
    clock.advance(Duration.ofHours(2));
    twin.<Reply>runCommand(r -> new Decommission(DecommissionReason.RETURNED, r)); // offline for the last 110 min too
    clock.advance(Duration.ofDays(3));

    twin.restart();
    DeviceView.Uptimes u = view().uptime();
    assertEquals(new Uptime.Measure(Duration.ofHours(4), minutes(220)), u.sinceActivation());
    assertNull(u.last24h(), "retired more than a day ago: no moment of its life in the window");
    assertEquals(u.sinceActivation(), u.last7d());
  }

  @Test
  void stagesAdvanceWithTimeAtTheirMilestones() {
    registerAndClaim();
    Instant activated = clock.instant();
    report(heartbeat());
    clock.advance(Duration.ofDays(61));
    assertEquals(Stage.DAY_90, view().stage(), "the view is right before the events are stored");
    var due = twin.runCommand(new Reconcile());
    assertTrue(due.events().containsAll(List.of(
        new StageChanged(Stage.DAY_30, Stage.DAY_60, activated.plus(Duration.ofDays(30))),
        new StageChanged(Stage.DAY_60, Stage.DAY_90, activated.plus(Duration.ofDays(60))))), due.events().toString());
    assertEquals(activated.plus(Duration.ofDays(60)), view().stageSince());
  }

  // ---- retirement -----------------------------------------------------------------------------

  @Test
  void decommissionIsTerminalAndRefusesLaterTelemetry() {
    registerAndClaim();
    report(heartbeat());
    var retire = twin.<Reply>runCommand(r -> new Decommission(DecommissionReason.RETURNED, r));
    assertEquals(List.of(
        new TelemetryCheckpointed(START, null, true, null, START), // the exact last sighting, so the view stays as it is
        new DeviceDecommissioned("cust-1", DecommissionReason.RETURNED, START),
        new StageChanged(Stage.DAY_30, Stage.END_OF_LIFE, START)), retire.events());
    assertTrue(twin.<Reply>runCommand(r -> new Decommission(DecommissionReason.BROKEN, r)).hasNoEvents(), "idempotent");

    var late = report(battery(10));
    assertTrue(late.hasNoEvents());
    assertEquals(ErrorCode.FAILED_PRECONDITION, late.reply().error());
    DeviceView v = view();
    assertEquals(Stage.END_OF_LIFE, v.stage());
    assertEquals(DecommissionReason.RETURNED, v.decommissioned());
    assertFalse(v.working());
    var reclaim = twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r));
    assertEquals(ErrorCode.FAILED_PRECONDITION, assertInstanceOf(Rejected.class, reclaim.reply()).code());
  }

  @Test
  void anEndOfSupportMovedIntoThePastEndsTheLifeAsOfTheStoredStageNotBeforeIt() {
    Instant claimed = START;
    Instant activated = START.plus(Duration.ofHours(1));
    DeviceState s = DeviceState.UNREGISTERED;
    for (Event e : List.of(
        new DeviceRegistered("thermostat-t3", "SN-1", Duration.ofMinutes(5), "1.0.0", START),
        new DeviceClaimed("cust-1", "site-1", "thermostat-t3", SiteStatus.UNSEEN, claimed),
        new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, claimed),
        new DeviceActivated(activated),
        new StageChanged(Stage.ONBOARDING, Stage.DAY_30, activated),
        new StageChanged(Stage.DAY_30, Stage.DAY_60, activated.plus(Duration.ofDays(30))))) {
      s = DeviceTwin.apply(s, e);
    }
    DeviceSettings supportEndedLongAgo = settingsWith(new Lifetimes.ModelLife(activated.plus(Duration.ofDays(10)), null));
    assertEquals(List.of(new StageChanged(Stage.DAY_60, Stage.END_OF_LIFE, activated.plus(Duration.ofDays(30)))),
        TelemetryRules.stageChanges((DeviceState.Registered) s, activated.plus(Duration.ofDays(50)), supportEndedLongAgo));
  }

  // ---- churn risk -----------------------------------------------------------------------------

  private static List<ChurnRisk.Factor> factors(ChurnRisk risk) {
    return risk.factors().stream().map(ChurnRisk.Scored::factor).toList();
  }

  private static ChurnRiskChanged stored(List<Event> events) {
    return events.stream().filter(e -> e instanceof ChurnRiskChanged).map(e -> (ChurnRiskChanged) e).findFirst().orElse(null);
  }

  @Test
  void aNewCustomerCarriesTheRiskOfTheStageAndOfASlowOnboarding() {
    register();
    assertEquals(ChurnRisk.NONE, view().churnRisk(), "no customer, no churn");
    var claim = twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r));
    assertEquals(new ChurnRiskChanged(6, List.of(new ChurnRisk.Scored(ChurnRisk.Factor.STAGE, 6, Stage.ONBOARDING.ordinal())), START),
        stored(claim.events()), "ONBOARDING weighs 0.6 of 10");
    clock.advance(Duration.ofDays(4)); // onboarding for 4 days: (4 - 1) / (7 - 1) of 10 points
    ChurnRisk slow = view().churnRisk();
    assertEquals(11, slow.score());
    assertEquals(List.of(ChurnRisk.Factor.STAGE, ChurnRisk.Factor.ONBOARDING_TIME), factors(slow));
    assertEquals(5, slow.factors().get(1).points());
    var recheck = twin.runCommand(new Reconcile());
    assertEquals(11, stored(recheck.events()).score(), "time alone moved it by 5 and added a factor: stored");
  }

  @Test
  void faultsFlappingAndSupportContactsAddTheirPointsAndTheTopThreeAreGiven() {
    registerAndClaim();
    report(heartbeat());
    Instant t = clock.instant();
    var fault = report(new Reading("dev-1", t, null, null, null, List.of(new Reading.ReportedFault("E42", Severity.CRITICAL))));
    assertEquals(25, stored(fault.events()).score(), "a critical fault is all 20 of its points, DAY_30 5");
    for (int i = 0; i < 5; i++) { // five disconnects within a day
      clock.advance(OFFLINE_AFTER.plus(Duration.ofMinutes(1)));
      twin.runCommand(new Reconcile());
      report(heartbeat());
    }
    assertEquals(TouchpointAnswer.class, touchpoint("c-1", TouchpointKind.COMPLAINT, "", null).getClass());
    assertEquals(TouchpointAnswer.class, touchpoint("c-2", TouchpointKind.SUPPORT_CONTACT, "", null).getClass());
    ChurnRisk risk = view().churnRisk();
    // 5 minutes offline in 55 of life: uptime 90.9%, (0.99 - 0.909) / (0.99 - 0.90) of 30 points
    assertEquals(List.of(ChurnRisk.Factor.UPTIME, ChurnRisk.Factor.FAULTS, ChurnRisk.Factor.FLAPPING), factors(risk), risk.toString());
    int uptimePoints = risk.factors().get(0).points();
    assertEquals(27, uptimePoints);
    assertEquals(List.of(20, 15), List.of(risk.factors().get(1).points(), risk.factors().get(2).points()), "flapping is full at 5 disconnects");
    assertEquals(uptimePoints + 20 + 15 + 15 + 5, risk.score(), 1, "support contacts are full too (a complaint counts twice), DAY_30 adds 5");
    assertEquals("uptime 90.9% over the last 30 days", ChurnRisk.reason(ChurnRisk.Factor.UPTIME, risk.factors().get(0).measure(), Stage.DAY_30));
  }

  @Test
  void aNewStageStoresTheRiskWithItSoTheListedReasonNamesTheStage() {
    registerAndClaim();
    report(heartbeat());
    clock.advance(Duration.ofDays(30).minus(Duration.ofMinutes(5)));
    report(heartbeat()); // back after a month away: the risk moved a lot and was stored
    clock.advance(Duration.ofMinutes(5));
    List<Event> milestone = twin.runCommand(new Reconcile()).events();
    ChurnRiskChanged withStage = stored(milestone);
    assertTrue(withStage != null, "only the stage's 2 points moved, yet it is stored with the new stage: " + milestone);
    assertTrue(withStage.factors().contains(new ChurnRisk.Scored(ChurnRisk.Factor.STAGE, 3, Stage.DAY_60.ordinal())), withStage.toString());
  }

  @Test
  void aHeartbeatThatChangesNothingStoresNoRiskAndARetiredDeviceHasNone() {
    registerAndClaim();
    report(heartbeat());
    clock.advance(Duration.ofMinutes(1));
    assertTrue(report(heartbeat()).hasNoEvents());
    twin.<Reply>runCommand(r -> new Decommission(DecommissionReason.CHURNED, r));
    assertEquals(ChurnRisk.NONE, view().churnRisk());
  }

  // ---- end of life by time --------------------------------------------------------------------

  /** A twin whose model "thermostat-t3" lives 100 days in service, or whose support ended before START. */
  private void withLifetime(Lifetimes.ModelLife life) {
    twin = EventSourcedBehaviorTestKit.create(testKit.system(), DeviceTwin.create("dev-1", settingsWith(life), ServiceClock.accelerated(clock, 1), null));
  }

  /** The default settings, with the model "thermostat-t3" living as {@code life} says. */
  private static DeviceSettings settingsWith(Lifetimes.ModelLife life) {
    return SETTINGS.withLifetimes(new Lifetimes(java.util.Map.of("thermostat-t3", life), null));
  }

  private static List<Stages.Transition> stageChanges(List<Event> events) {
    return events.stream().filter(e -> e instanceof StageChanged).map(e -> (StageChanged) e)
        .map(e -> new Stages.Transition(e.from(), e.to(), e.at())).toList();
  }

  @Test
  void aDeviceOutlivingItsModelsLifetimeReachesEndOfLifeYetKeepsReporting() {
    withLifetime(new Lifetimes.ModelLife(null, Duration.ofDays(100)));
    List<Event> stored = new java.util.ArrayList<>(register().events());
    stored.addAll(twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r)).events());
    Instant activated = clock.instant();
    stored.addAll(report(heartbeat()).events());
    clock.advance(Duration.ofDays(100));
    assertEquals(Stage.END_OF_LIFE, view().stage(), "the view is right before the events are stored");
    var due = twin.runCommand(new Reconcile());
    stored.addAll(due.events());
    assertEquals(new StageChanged(Stage.MATURE, Stage.END_OF_LIFE, activated.plus(Duration.ofDays(100))),
        facts(due.events()).get(facts(due.events()).size() - 1), "at the exact end, after the milestones before it");

    clock.advance(Duration.ofDays(1));
    var still = report(battery(80));
    assertNull(still.reply().error(), "not retired: telemetry is still taken");
    stored.addAll(still.events());
    clock.advance(Duration.ofDays(1));
    var retire = twin.<Reply>runCommand(r -> new Decommission(DecommissionReason.REPLACED, r));
    stored.addAll(retire.events());
    assertTrue(retire.events().stream().noneMatch(e -> e instanceof StageChanged), "already at END_OF_LIFE");
    DeviceView v = view();
    assertEquals(activated.plus(Duration.ofDays(100)), v.stageSince());
    assertEquals(Duration.ofDays(102), v.uptime().sinceActivation().counted(), "its life ends when it is retired, not at its end of life");

    List<Stages.Transition> changes = stageChanges(stored);
    assertEquals(List.of(Stage.ONBOARDING, Stage.DAY_30, Stage.DAY_60, Stage.DAY_90, Stage.MATURE, Stage.END_OF_LIFE),
        changes.stream().map(Stages.Transition::to).toList());
    assertEquals(changes, journey().stageChanges());
    twin.restart();
    assertEquals(changes, journey().stageChanges(), "the same after recovery");
    assertEquals(v, view());
  }

  @Test
  void aDeviceClaimedAfterItsModelsSupportEndedIsAtEndOfLifeFromTheClaim() {
    withLifetime(new Lifetimes.ModelLife(START.minus(Duration.ofDays(1)), null));
    register();
    var claim = twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r));
    assertEquals(List.of(Stage.ONBOARDING, Stage.END_OF_LIFE),
        facts(claim.events()).stream().filter(e -> e instanceof StageChanged).map(e -> ((StageChanged) e).to()).toList(), "stored with the claim");
    assertTrue(twin.runCommand(new Reconcile()).hasNoEvents());
    clock.advance(Duration.ofHours(2));
    assertEquals(List.of(new CameOnline(clock.instant()), new DeviceActivated(clock.instant())), report(heartbeat()).events(),
        "activated without a stage change");
    assertEquals(List.of(
        new Stages.Transition(Stage.UNCLAIMED, Stage.ONBOARDING, START),
        new Stages.Transition(Stage.ONBOARDING, Stage.END_OF_LIFE, START)), journey().stageChanges());
  }

  @Test
  void aFirstReportAfterTheEndOfSupportStoresTheEndFirst() {
    withLifetime(new Lifetimes.ModelLife(START.plus(Duration.ofDays(3)), null));
    registerAndClaim();
    clock.advance(Duration.ofDays(4)); // the twin slept through its end of support
    assertEquals(List.of(
        new CameOnline(clock.instant()),
        new StageChanged(Stage.ONBOARDING, Stage.END_OF_LIFE, START.plus(Duration.ofDays(3))),
        new DeviceActivated(clock.instant())), facts(report(heartbeat()).events()));
  }

  // ---- journey --------------------------------------------------------------------------------

  private JourneyView journey() {
    return assertInstanceOf(JourneyAnswer.class, twin.<Reply>runCommand(GetJourney::new).reply()).journey();
  }

  private Reply touchpoint(String id, TouchpointKind kind, String note, Instant at) {
    return twin.<Reply>runCommand(r -> new RecordTouchpoint(id, kind, note, at, r)).reply();
  }

  @Test
  void theJourneysStageChangesAreExactlyTheStoredOnes() {
    List<Event> stored = new java.util.ArrayList<>(register().events());
    stored.addAll(twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r)).events());
    clock.advance(Duration.ofHours(5));
    stored.addAll(report(heartbeat()).events());
    clock.advance(Duration.ofDays(64)); // silent: offline, and two milestones passed
    stored.addAll(twin.<Reply>runCommand(r -> new Decommission(DecommissionReason.CHURNED, r)).events());
    clock.advance(Duration.ofDays(100));

    List<Stages.Transition> storedChanges = stored.stream()
        .filter(e -> e instanceof StageChanged).map(e -> (StageChanged) e)
        .map(e -> new Stages.Transition(e.from(), e.to(), e.at())).toList();
    assertEquals(5, storedChanges.size(), storedChanges.toString());
    JourneyView j = journey();
    assertEquals(storedChanges, j.stageChanges());
    assertEquals(Stage.END_OF_LIFE, j.stage());
    twin.restart();
    assertEquals(j, journey(), "the same after recovery");
  }

  @Test
  void touchpointsAreKeptInTheOrderTheyHappenedAndRetriesAreSafe() {
    registerAndClaim();
    Instant claimed = clock.instant();
    clock.advance(Duration.ofDays(3));
    Instant now = clock.instant();
    var first = assertInstanceOf(TouchpointAnswer.class, touchpoint("tp-a", TouchpointKind.SUPPORT_CONTACT, "No Wi-Fi.", now)).touchpoint();
    assertEquals(new Touchpoint("tp-a", TouchpointKind.SUPPORT_CONTACT, "No Wi-Fi.", now, now), first);
    touchpoint("tp-b", TouchpointKind.ONBOARDING_CALL, "", claimed.plusSeconds(600));

    clock.advance(Duration.ofMinutes(5));
    var retry = twin.<Reply>runCommand(r -> new RecordTouchpoint("tp-a", TouchpointKind.SUPPORT_CONTACT, "No Wi-Fi.", now, r));
    assertTrue(retry.hasNoEvents(), "the same touchpoint again stores nothing");
    assertEquals(first, assertInstanceOf(TouchpointAnswer.class, retry.reply()).touchpoint());
    var clash = touchpoint("tp-a", TouchpointKind.COMPLAINT, "No Wi-Fi.", now);
    assertEquals(ErrorCode.ALREADY_EXISTS, assertInstanceOf(Rejected.class, clash).code());

    twin.<Reply>runCommand(r -> new RecordTouchpoint("tp-c", TouchpointKind.UPSELL, "", null, r)); // at: now
    clock.advance(Duration.ofMinutes(5));
    var untimedRetry = twin.<Reply>runCommand(r -> new RecordTouchpoint("tp-c", TouchpointKind.UPSELL, "", null, r));
    assertTrue(untimedRetry.hasNoEvents(), "a retry without a time is the same touchpoint, whenever it comes");

    assertEquals(List.of("tp-b", "tp-a", "tp-c"), journey().touchpoints().stream().map(Touchpoint::id).toList(), "by when they happened");
  }

  @Test
  void aTouchpointNeedsACustomerAndCannotPrecedeTheClaim() {
    register();
    Rejected unclaimed = assertInstanceOf(Rejected.class, touchpoint("tp-1", TouchpointKind.UPSELL, "", clock.instant()));
    assertEquals(ErrorCode.FAILED_PRECONDITION, unclaimed.code());
    twin.<Reply>runCommand(r -> new Claim("cust-1", "site-1", r));
    var early = twin.<Reply>runCommand(r -> new RecordTouchpoint("tp-1", TouchpointKind.UPSELL, "", START.minusSeconds(1), r));
    assertTrue(early.hasNoEvents());
    assertEquals(ErrorCode.FAILED_PRECONDITION, assertInstanceOf(Rejected.class, early.reply()).code());
  }

  @Test
  void onlyTheMostRecentHundredTouchpointsAreKept() {
    registerAndClaim();
    for (int i = 0; i < 105; i++) {
      clock.advance(Duration.ofMinutes(1));
      touchpoint("tp-" + i, TouchpointKind.SUPPORT_CONTACT, "call " + i, clock.instant());
    }
    List<Touchpoint> kept = journey().touchpoints();
    assertEquals(DeviceState.Journey.KEPT_TOUCHPOINTS, kept.size());
    assertEquals("tp-5", kept.get(0).id());
    assertEquals("tp-104", kept.get(kept.size() - 1).id());
  }

  // ---- watchers -------------------------------------------------------------------------------

  @Test
  void watchersGetTheCurrentViewThenEveryChange() {
    registerAndClaim();
    TestProbe<ViewSubscriber> a = testKit.createTestProbe();
    TestProbe<ViewSubscriber> b = testKit.createTestProbe();
    twin.runCommand(new Watch(a.getRef()));
    twin.runCommand(new Watch(b.getRef()));
    assertEquals(Stage.ONBOARDING, ((DeviceView) a.receiveMessage()).stage());
    assertEquals(Stage.ONBOARDING, ((DeviceView) b.receiveMessage()).stage());
    report(battery(50));
    assertEquals(Stage.DAY_30, ((DeviceView) a.receiveMessage()).stage());
    assertEquals(Stage.DAY_30, ((DeviceView) b.receiveMessage()).stage());

    twin.runCommand(new Unwatch(a.getRef()));
    report(battery(49));
    assertEquals(49, ((DeviceView) b.receiveMessage()).batteryPercent());
    a.expectNoMessage(Duration.ofMillis(200));
  }

  // ---- alerts ---------------------------------------------------------------------------------

  @Test
  void aBatteryBelowTwentyRaisesOneAlertThatEndsAboveThirty() {
    registerAndClaim();
    report(battery(50));
    clock.advance(Duration.ofMinutes(5));
    List<AlertEvent> raised = alerts(report(battery(19)).events());
    assertEquals(1, raised.size());
    AlertRaised low = assertInstanceOf(AlertRaised.class, raised.get(0));
    assertEquals(new Alert(1, AlertKind.BATTERY_LOW, "", "battery 19%", clock.instant(), null, null, null, null, null), low.alert());
    assertEquals(new AlertSubject("cust-1", "site-1", "thermostat-t3", Stage.DAY_30), low.device());
    for (int b : new int[] {18, 15, 25, 30}) { // no storm: still the same episode, however it moves below 30
      clock.advance(Duration.ofMinutes(5));
      assertEquals(List.of(), alerts(report(battery(b)).events()), "at " + b + "%");
    }
    assertEquals(List.of(low.alert()), view().alerts());
    clock.advance(Duration.ofMinutes(5));
    AlertEnded ended = assertInstanceOf(AlertEnded.class, alerts(report(battery(31)).events()).get(0));
    assertEquals(Alert.State.RESOLVED, ended.alert().state());
    assertEquals(Alert.Resolution.AUTO, ended.alert().resolution());
    assertEquals(clock.instant(), ended.alert().overAt());
    assertEquals(List.of(), view().alerts(), "the view shows alerts not resolved yet");
    clock.advance(Duration.ofMinutes(5));
    AlertRaised again = assertInstanceOf(AlertRaised.class, alerts(report(battery(12)).events()).get(0));
    assertEquals(2, again.alert().number(), "a new episode, a new alert");
  }

  @Test
  void anAlertIsAcknowledgedThenResolvedAndTheSameCommandAgainChangesNothing() {
    registerAndClaim();
    report(battery(10));
    clock.advance(Duration.ofMinutes(1));
    var ack = twin.<Reply>runCommand(r -> new AcknowledgeAlert(1, "Calling the customer.", r));
    AlertAnswer acked = assertInstanceOf(AlertAnswer.class, ack.reply());
    assertEquals(Alert.State.ACKNOWLEDGED, acked.alert().state());
    assertEquals("Calling the customer.", acked.alert().note());
    assertTrue(acked.stored());
    assertEquals(1, ack.events().size());
    var ackAgain = twin.<Reply>runCommand(r -> new AcknowledgeAlert(1, "Calling the customer.", r));
    assertTrue(ackAgain.hasNoEvents());
    assertEquals(acked.alert(), assertInstanceOf(AlertAnswer.class, ackAgain.reply()).alert());
    assertFalse(((AlertAnswer) ackAgain.reply()).stored());

    clock.advance(Duration.ofMinutes(1));
    AlertAnswer resolved = assertInstanceOf(AlertAnswer.class, twin.<Reply>runCommand(r -> new ResolveAlert(1, "Shipped batteries.", r)).reply());
    assertEquals(Alert.State.RESOLVED, resolved.alert().state());
    assertEquals(Alert.Resolution.MANUAL, resolved.alert().resolution());
    assertFalse(resolved.alert().over(), "resolved by hand; the battery is still low");
    assertTrue(twin.<Reply>runCommand(r -> new ResolveAlert(1, "Shipped batteries.", r)).hasNoEvents());
    var ackResolved = twin.<Reply>runCommand(r -> new AcknowledgeAlert(1, null, r));
    assertEquals(ErrorCode.FAILED_PRECONDITION, assertInstanceOf(Rejected.class, ackResolved.reply()).code());
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, twin.<Reply>runCommand(r -> new AcknowledgeAlert(2, null, r)).reply()).code());
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, twin.<Reply>runCommand(r -> new ResolveAlert(0, null, r)).reply()).code());

    // Resolved by hand while the battery stays low: no second alert for the same episode.
    clock.advance(Duration.ofMinutes(5));
    assertEquals(List.of(), alerts(report(battery(8)).events()));
    clock.advance(Duration.ofMinutes(5));
    AlertEnded over = assertInstanceOf(AlertEnded.class, alerts(report(battery(100)).events()).get(0));
    assertEquals(Alert.Resolution.MANUAL, over.alert().resolution(), "the hand's resolution stands");
    assertEquals(clock.instant(), over.alert().overAt());
  }

  @Test
  void commandsOnAnUnknownDeviceAreNotFound() {
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, twin.<Reply>runCommand(r -> new AcknowledgeAlert(1, null, r)).reply()).code());
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, twin.<Reply>runCommand(r -> new ResolveAlert(1, null, r)).reply()).code());
  }

  @Test
  void aCriticalFaultRaisesOneAlertPerCodeUntilTheFaultClears() {
    registerAndClaim();
    var crit = new Reading.ReportedFault("E7", Severity.CRITICAL);
    var other = new Reading.ReportedFault("E9", Severity.CRITICAL);
    List<AlertEvent> raised = alerts(report(reading(null, List.of(crit, other))).events());
    assertEquals(List.of("E7", "E9"), raised.stream().map(e -> e.alert().subject()).sorted().toList());
    clock.advance(Duration.ofMinutes(5));
    assertEquals(List.of(), alerts(report(reading(null, List.of(crit, other))).events()));
    clock.advance(Duration.ofMinutes(5));
    var warning = new Reading.ReportedFault("E7", Severity.WARNING);
    List<AlertEvent> changes = alerts(report(reading(null, List.of(warning))).events());
    assertEquals(1, changes.size(), "E9 cleared; E7 still open, though no longer critical: " + changes);
    assertEquals("E9", assertInstanceOf(AlertEnded.class, changes.get(0)).alert().subject());
    assertEquals(Alert.Resolution.AUTO, changes.get(0).alert().resolution());
    for (int flip = 0; flip < 3; flip++) { // a severity hovering at critical raises no storm
      clock.advance(Duration.ofMinutes(5));
      assertEquals(List.of(), alerts(report(reading(null, List.of(flip % 2 == 0 ? crit : warning))).events()));
    }
    clock.advance(Duration.ofMinutes(5));
    AlertEnded e7 = assertInstanceOf(AlertEnded.class, alerts(report(reading(null, List.of())).events()).get(0));
    assertEquals("E7", e7.alert().subject());
    clock.advance(Duration.ofMinutes(5));
    assertEquals("E7", assertInstanceOf(AlertRaised.class, alerts(report(reading(null, List.of(crit))).events()).get(0)).alert().subject(),
        "a new episode once it cleared");
  }

  @Test
  void offlineForAnHourRaisesAnAlertOnTimeThatEndsWhenTheDeviceReportsAgain() {
    registerAndClaim();
    report(heartbeat());
    Instant offlineAt = clock.instant().plus(OFFLINE_AFTER);
    clock.advance(OFFLINE_AFTER.plus(SETTINGS.alerts().offlineAfter()).minusSeconds(1));
    assertEquals(List.of(), alerts(twin.runCommand(new Reconcile()).events()), "off line for just under an hour");
    clock.advance(Duration.ofSeconds(1));
    AlertRaised offline = assertInstanceOf(AlertRaised.class, alerts(twin.runCommand(new Reconcile()).events()).get(0));
    assertEquals(AlertKind.OFFLINE, offline.alert().kind());
    assertEquals(offlineAt.plus(SETTINGS.alerts().offlineAfter()), offline.alert().raisedAt());
    clock.advance(Duration.ofHours(5));
    assertEquals(List.of(), alerts(twin.runCommand(new Reconcile()).events()));
    AlertEnded back = assertInstanceOf(AlertEnded.class, alerts(report(heartbeat()).events()).get(0));
    assertEquals(AlertKind.OFFLINE, back.alert().kind());
  }

  @Test
  void aDeviceNotReportingWithinTwoDaysOfItsClaimIsStalledUntilItsFirstReport() {
    registerAndClaim();
    clock.advance(SETTINGS.alerts().onboardingStalledAfter().minusSeconds(1));
    assertEquals(List.of(), alerts(twin.runCommand(new Reconcile()).events()));
    clock.advance(Duration.ofSeconds(1));
    AlertRaised stalled = assertInstanceOf(AlertRaised.class, alerts(twin.runCommand(new Reconcile()).events()).get(0));
    assertEquals(AlertKind.ONBOARDING_STALLED, stalled.alert().kind());
    assertEquals(Stage.ONBOARDING, stalled.device().stage());
    clock.advance(Duration.ofHours(1));
    AlertEnded activated = assertInstanceOf(AlertEnded.class, alerts(report(heartbeat()).events()).get(0));
    assertEquals(AlertKind.ONBOARDING_STALLED, activated.alert().kind());
  }

  @Test
  void fiveDisconnectsInADayAreFlappingUntilTheDayHoldsOneAtMost() {
    registerAndClaim();
    report(heartbeat());
    List<AlertEvent> raised = List.of();
    for (int drop = 1; drop <= 5; drop++) {
      clock.advance(OFFLINE_AFTER.plusMinutes(1));
      raised = new java.util.ArrayList<>(alerts(twin.runCommand(new Reconcile()).events())); // went off line
      clock.advance(Duration.ofMinutes(1));
      raised.addAll(alerts(report(heartbeat()).events()));
      if (drop < 5) {
        assertEquals(List.of(), raised, "after " + drop + " disconnects");
      }
    }
    assertEquals(AlertKind.FLAPPING, assertInstanceOf(AlertRaised.class, raised.get(0)).alert().kind());
    // Quiet from now on, reporting on time: the day lets go of the drops one by one.
    Instant flappingOver = null;
    for (int hour = 1; hour <= 26 && flappingOver == null; hour++) {
      for (int beat = 0; beat < 12; beat++) {
        clock.advance(Duration.ofMinutes(5));
        List<Event> events = new java.util.ArrayList<>(report(heartbeat()).events());
        events.addAll(twin.runCommand(new Reconcile()).events());
        if (alerts(events).stream().anyMatch(e -> e instanceof AlertEnded)) {
          flappingOver = clock.instant();
        }
      }
    }
    assertTrue(flappingOver != null && flappingOver.isAfter(START.plus(Duration.ofHours(24))), "over a day after the drops: " + flappingOver);
  }

  @Test
  void aDrainingBatteryIsForecastEmptyOnceItsTrendSaysSoAndTheForecastEndsWithACharge() {
    registerAndClaim();
    // 3 points a day from 60%: empty in about 20 days at first, so no alert until the line says 14.
    int level = 60;
    List<AlertEvent> raised = List.of();
    int day = 0;
    while (raised.isEmpty() && day < 30) {
      report(battery(level));
      clock.advance(Duration.ofHours(8));
      level--;
      day++;
      raised = alerts(report(battery(level)).events());
    }
    AlertRaised forecast = assertInstanceOf(AlertRaised.class, raised.get(0));
    assertEquals(AlertKind.BATTERY_FORECAST, forecast.alert().kind());
    assertTrue(level <= 43 && level >= 40, "raised when 14 days of 3 points a day were left: at " + level + "%");
    assertTrue(forecast.alert().detail().startsWith("battery " + level + "%, empty in about 1"), forecast.alert().detail());
    clock.advance(Duration.ofHours(8));
    assertEquals(List.of(), alerts(report(battery(level - 1)).events()), "one alert for the episode");
    clock.advance(Duration.ofHours(1));
    AlertEnded charged = assertInstanceOf(AlertEnded.class, alerts(report(battery(100)).events()).get(0));
    assertEquals(AlertKind.BATTERY_FORECAST, charged.alert().kind());
  }

  @Test
  void decommissioningEndsEveryAlert() {
    registerAndClaim();
    report(battery(10));
    var retire = twin.<Reply>runCommand(r -> new Decommission(DecommissionReason.BROKEN, r));
    AlertEnded ended = assertInstanceOf(AlertEnded.class, alerts(retire.events()).get(0));
    assertEquals(AlertKind.BATTERY_LOW, ended.alert().kind());
    assertEquals(List.of(), view().alerts());
  }
}
