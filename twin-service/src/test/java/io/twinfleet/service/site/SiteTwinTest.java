package io.twinfleet.service.site;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.twinfleet.service.MutableClock;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.device.DeviceTwin.SiteStatus;
import io.twinfleet.service.device.ErrorCode;
import io.twinfleet.service.site.DeviceChange.Kind;
import io.twinfleet.service.site.SiteTwin.*;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The site entity on the in-memory journal, with serialization of its events and state checked. */
class SiteTwinTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.parseResources("serialization.conf"))
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = off")));

  private static final Instant START = Instant.parse("2026-11-10T08:00:00Z");

  private MutableClock clock;
  private EventSourcedBehaviorTestKit<Command, Event, SiteState> site;

  @BeforeEach
  void setUp() {
    clock = new MutableClock(START);
    site = EventSourcedBehaviorTestKit.create(testKit.system(), SiteTwin.create("carpark-1", SiteSettings.defaults(), ServiceClock.accelerated(clock, 1)));
  }

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  private static final SiteStatus WORKING_FREE = new SiteStatus(true, true, false, List.of());

  private Listed apply(DeviceChange... changes) {
    return assertInstanceOf(Listed.class, site.<Reply>runCommand(r -> new Apply(List.of(changes), r)).reply());
  }

  private SiteView view() {
    return assertInstanceOf(Summary.class, site.<Reply>runCommand(Get::new).reply()).view();
  }

  @Test
  void aSiteNoDeviceJoinedIsNotFoundAndStoresNothing() {
    var get = site.<Reply>runCommand(Get::new);
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, get.reply()).code());
    var declare = site.<Reply>runCommand(r -> new DeclareMaintenance("w", START, START.plusSeconds(60), "", r));
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, declare.reply()).code());
    assertTrue(declare.hasNoEvents());
    var target = site.<Reply>runCommand(r -> new SetTarget(0.9, r));
    assertTrue(target.hasNoEvents());
    var sla = site.<Reply>runCommand(r -> new GetSla(YearMonth.of(2026, 11), r));
    assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(Rejected.class, sla.reply()).code());
  }

  @Test
  void aBatchIsStoredOnceAndOnlyItsNewChanges() {
    DeviceChange joined = DeviceChange.joined("c1", 3, WORKING_FREE, START);
    DeviceChange busy = new DeviceChange("c1", 5, Kind.USAGE_STARTED, null, null, START.plusSeconds(60));
    var first = site.<Reply>runCommand(r -> new Apply(List.of(joined), r));
    assertEquals(List.of(new DevicesChanged(List.of(joined), START)), first.events());
    Listed s = assertInstanceOf(Listed.class, first.reply());
    assertEquals(1, s.seqNr());
    assertTrue(s.row().available());

    clock.advance(Duration.ofSeconds(90));
    var again = site.<Reply>runCommand(r -> new Apply(List.of(joined, busy), r));
    assertEquals(List.of(new DevicesChanged(List.of(busy), START.plusSeconds(90))), again.events());
    Listed after = assertInstanceOf(Listed.class, again.reply());
    assertEquals(2, after.seqNr());
    assertEquals(1, after.row().inUse());
    assertEquals(START.plusSeconds(60), after.row().stateSince(), "down from the device's own time");
    assertEquals(view().row(), after.row(), "the row is the view's");

    var replay = site.<Reply>runCommand(r -> new Apply(List.of(joined, busy), r));
    assertTrue(replay.hasNoEvents());
    assertEquals(2, assertInstanceOf(Listed.class, replay.reply()).seqNr());
  }

  @Test
  void maintenanceIsDeclaredOnceAndAnotherWindowUnderItsIdIsRefused() {
    apply(DeviceChange.joined("c1", 3, WORKING_FREE, START));
    Instant from = START.plus(Duration.ofHours(2));
    var declared = site.<Reply>runCommand(r -> new DeclareMaintenance("w-1", from, from.plus(Duration.ofHours(1)), "cables", r));
    assertEquals(1, declared.events().size());
    assertEquals(1, assertInstanceOf(Summary.class, declared.reply()).view().maintenance().size());
    assertTrue(site.<Reply>runCommand(r -> new DeclareMaintenance("w-1", from, from.plus(Duration.ofHours(1)), "cables", r)).hasNoEvents());
    var other = site.<Reply>runCommand(r -> new DeclareMaintenance("w-1", from, from.plus(Duration.ofHours(2)), "cables", r));
    assertEquals(ErrorCode.ALREADY_EXISTS, assertInstanceOf(Rejected.class, other.reply()).code());
    assertTrue(other.hasNoEvents());
  }

  @Test
  void theTargetIsTheSitesOwnOnceSetAndSurvivesARestart() {
    apply(DeviceChange.joined("c1", 3, WORKING_FREE, START));
    assertEquals(0.99, view().thisMonth().target());
    var set = site.<Reply>runCommand(r -> new SetTarget(0.95, r));
    assertEquals(List.of(new TargetSet(0.95, START)), set.events());
    assertTrue(site.<Reply>runCommand(r -> new SetTarget(0.95, r)).hasNoEvents());
    SiteState before = site.getState();
    site.restart();
    assertEquals(before, site.getState());
    assertEquals(0.95, view().thisMonth().target());
    assertEquals(0.95, apply().row().target());
  }

  @Test
  void watchersGetTheViewAndEveryChange() {
    apply(DeviceChange.joined("c1", 3, WORKING_FREE, START));
    TestProbe<SiteView> watcher = testKit.createTestProbe();
    site.runCommand(new Watch(watcher.ref()));
    assertTrue(watcher.receiveMessage().counts().available());
    apply(new DeviceChange("c1", 4, Kind.OFFLINE, null, null, START));
    assertEquals(0, watcher.receiveMessage().counts().working());
    site.runCommand(new Unwatch(watcher.ref()));
    apply(new DeviceChange("c1", 5, Kind.ONLINE, null, null, START));
    watcher.expectNoMessage(Duration.ofMillis(200));
  }
}
