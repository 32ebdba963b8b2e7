package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.twinfleet.service.device.DeviceTwin.*;
import io.twinfleet.service.site.DeviceChange;
import io.twinfleet.service.site.SiteState;
import io.twinfleet.service.site.SiteTwin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Events and snapshots written by earlier versions must still read. Each event type has a stored
 * sample under src/test/resources/stored-events (read from the module directory): serializer id,
 * manifest and CBOR bytes in base64, which must deserialize to the same event today. Snapshots of a
 * twin's state have samples under stored-snapshots, one per version of the state's shape, each
 * with the state it must read as today. A new event type or state shape needs a sample: run this
 * test once with -Dtwinfleet.write-stored-events=true to write the missing ones, and commit them.
 * Never rewrite an existing sample: a change that breaks one needs a migration instead.
 */
class EventSerializationTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseResources("serialization.conf"));
  private static final Instant T = Instant.parse("2026-11-01T09:30:15.123Z");
  private static final Path SAMPLES = Path.of("src/test/resources/stored-events");
  private static final Path SNAPSHOTS = Path.of("src/test/resources/stored-snapshots");

  private static final Alert RAISED =
      new Alert(3, AlertKind.CRITICAL_FAULT, "E42", "critical fault E42", T.minusSeconds(5), null, null, null, null, null);
  private static final AlertSubject DEVICE = new AlertSubject("cust-7", "carpark-3", "charger-ac22", Stage.DAY_30);

  private static final SiteStatus ONLINE_IN_USE_WITH_A_FAULT = new SiteStatus(true, true, true, List.of("E42"));

  /**
   * Samples of events in an earlier shape, by file, and the event each must read as today: claims
   * and moves stored before they carried the device's status for its site, checkpoints before they
   * carried the battery's trend.
   */
  static final Map<String, Event> EARLIER_SHAPES = Map.of(
      "DeviceClaimed.txt", new DeviceClaimed("cust-7", "carpark-3", "charger-ac22", null, T),
      "DeviceMoved.txt", new DeviceMoved("cust-7", "carpark-3", "carpark-4", null, T),
      "TelemetryCheckpointed.txt", new TelemetryCheckpointed(T, 64, true, null, T));

  /** One event of each type in today's shape; its sample is named after its type, with "-vN" once the type changed shape. */
  static final List<Event> SAMPLE_EVENTS = List.of(
      new DeviceRegistered("charger-ac22", "SN-0042", Duration.ofMinutes(5), "3.1.4", T),
      new DeviceClaimed("cust-7", "carpark-3", "charger-ac22", ONLINE_IN_USE_WITH_A_FAULT, T),
      new DeviceMoved("cust-7", "carpark-3", "carpark-4", ONLINE_IN_USE_WITH_A_FAULT, T),
      new DeviceActivated(T),
      new StageChanged(Stage.ONBOARDING, Stage.DAY_30, T),
      new CameOnline(T),
      new WentOffline(T),
      new FirmwareChanged("3.1.4", "3.2.0", T),
      new FaultRaised("E42", Severity.CRITICAL, T),
      new FaultCleared("E42", T),
      new BatteryLow(17, T),
      new BatteryRecovered(33, T),
      new UsageStarted(T),
      new UsageEnded(T),
      new TelemetryCheckpointed(T, 64, true, "64;0;1793439015:66,1793525415:65,1793611815:64", T),
      new DeviceDecommissioned("cust-7", DecommissionReason.REPLACED, T),
      new TouchpointRecorded("tp-1", TouchpointKind.DAY_30_CHECKIN, "Happy so far; asked about\nthe app.", T.minusSeconds(3600), T),
      new ChurnRiskChanged(42, List.of(
          new ChurnRisk.Scored(ChurnRisk.Factor.UPTIME, 20, 0.9567),
          new ChurnRisk.Scored(ChurnRisk.Factor.FLAPPING, 12, 4),
          new ChurnRisk.Scored(ChurnRisk.Factor.STAGE, 5, 2)), T),
      new AlertRaised(RAISED, DEVICE, T),
      new AlertAcknowledged(RAISED.acknowledged("On it.", T.plusSeconds(60)), DEVICE, T.plusSeconds(60)),
      new AlertResolved(RAISED.resolvedByHand(null, T.plusSeconds(90)), DEVICE, T.plusSeconds(90)),
      new AlertEnded(RAISED.ended(T.plusSeconds(120)), DEVICE, T.plusSeconds(120)));

  /** One event of each type of the site entity. */
  static final List<SiteTwin.Event> SITE_SAMPLE_EVENTS = List.of(
      new SiteTwin.DevicesChanged(List.of(
          new DeviceChange("charger-1", 2, DeviceChange.Kind.JOINED, ONLINE_IN_USE_WITH_A_FAULT, null, T),
          new DeviceChange("charger-1", 9, DeviceChange.Kind.CRITICAL_FAULT, null, "E7", T),
          new DeviceChange("charger-2", 3, DeviceChange.Kind.JOINED, new SiteStatus(true, true, false, List.of()), null, T),
          new DeviceChange("charger-2", 4, DeviceChange.Kind.OFFLINE, null, null, T)), T),
      new SiteTwin.MaintenanceDeclared("w-2026-11", T, T.plusSeconds(7200), "Replacing the cabinet.", T),
      new SiteTwin.TargetSet(0.995, T));

  /**
   * A site with two chargers, one of them down for a while, a maintenance window and its own target;
   * with a zero reorder window all its changes are settled (the shape before pending changes, v1), with
   * a wider one they are pending (v2).
   */
  static SiteState sampleSiteState(Duration reorderWindow) {
    SiteState s = SiteState.EMPTY;
    for (SiteTwin.Event e : SITE_SAMPLE_EVENTS) {
      s = SiteTwin.apply(s, e, reorderWindow);
    }
    return SiteTwin.apply(s, new SiteTwin.DevicesChanged(List.of(new DeviceChange("charger-2", 5, DeviceChange.Kind.ONLINE, null, null,
        T.plusSeconds(600))), T.plusSeconds(600)), reorderWindow);
  }

  /** A twin that registered, was claimed, reported, raised a fault and was checkpointed. */
  static DeviceState sampleState() {
    return applied(DeviceState.UNREGISTERED,
        new DeviceRegistered("charger-ac22", "SN-0042", Duration.ofMinutes(5), "3.1.4", T),
        new DeviceClaimed("cust-7", "carpark-3", "charger-ac22", SiteStatus.UNSEEN, T.plusSeconds(60)),
        new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, T.plusSeconds(60)),
        new CameOnline(T.plusSeconds(120)),
        new DeviceActivated(T.plusSeconds(120)),
        new StageChanged(Stage.ONBOARDING, Stage.DAY_30, T.plusSeconds(120)),
        new FaultRaised("E42", Severity.CRITICAL, T.plusSeconds(180)),
        new TelemetryCheckpointed(T.plusSeconds(900), 64, false, null, T.plusSeconds(900)));
  }

  /** The same twin after two offline episodes and a graceful stop. */
  static DeviceState sampleStateWithOfflineHistory() {
    return applied(sampleState(),
        new WentOffline(T.plusSeconds(1500)),
        new CameOnline(T.plusSeconds(2100)),
        new WentOffline(T.plusSeconds(2700)),
        new CameOnline(T.plusSeconds(4000)),
        new TelemetryCheckpointed(T.plusSeconds(4100), 63, true, null, T.plusSeconds(4200)));
  }

  /** The same twin with two touchpoints. */
  static DeviceState sampleStateWithTouchpoints() {
    return applied(sampleStateWithOfflineHistory(),
        new TouchpointRecorded("tp-1", TouchpointKind.ONBOARDING_CALL, "Set up together.", T.plusSeconds(200), T.plusSeconds(300)),
        new TouchpointRecorded("tp-2", TouchpointKind.COMPLAINT, "", T.plusSeconds(5000), T.plusSeconds(5000)));
  }

  /** The same twin with a stored churn risk, at the end of its model's life, then decommissioned a day later. */
  static DeviceState sampleStateRetiredAfterItsEndOfLife() {
    return applied(sampleStateWithTouchpoints(),
        new ChurnRiskChanged(37, List.of(new ChurnRisk.Scored(ChurnRisk.Factor.FAULTS, 20, 2), new ChurnRisk.Scored(ChurnRisk.Factor.STAGE, 5, 2)),
            T.plusSeconds(5000)),
        new StageChanged(Stage.DAY_30, Stage.END_OF_LIFE, T.plusSeconds(6000)),
        new DeviceDecommissioned("cust-7", DecommissionReason.REPLACED, T.plusSeconds(6000 + 86_400)));
  }

  /** The twin of v4 before its retirement, with an alert acknowledged and one over. */
  static DeviceState sampleStateWithAlerts() {
    Alert low = new Alert(1, AlertKind.BATTERY_LOW, "", "battery 17%", T.plusSeconds(300), null, null, null, null, null);
    return applied(sampleStateWithTouchpoints(),
        new AlertRaised(low, DEVICE, T.plusSeconds(300)),
        new AlertRaised(RAISED, DEVICE, T.plusSeconds(400)),
        new AlertAcknowledged(RAISED.acknowledged("On it.", T.plusSeconds(500)), DEVICE, T.plusSeconds(500)),
        new AlertEnded(low.ended(T.plusSeconds(600)), DEVICE, T.plusSeconds(600)));
  }

  private static DeviceState applied(DeviceState s, Event... events) {
    for (Event e : events) {
      s = DeviceTwin.apply(s, e);
    }
    return s;
  }

  /** A snapshot per shape the state has had, and the state it must read as today; the last is today's. */
  record StoredSnapshot(String file, DeviceState state) {}

  static final List<StoredSnapshot> SNAPSHOTS_BY_SHAPE = List.of(
      new StoredSnapshot("state-v1.txt", sampleState()),
      // v2: offline history, and whether the last sighting is exact
      new StoredSnapshot("state-v2.txt", sampleStateWithOfflineHistory()),
      // v3: touchpoints
      new StoredSnapshot("state-v3.txt", sampleStateWithTouchpoints()),
      // v4: when it was retired, apart from when its stage began; the churn risk last stored
      new StoredSnapshot("state-v4.txt", sampleStateRetiredAfterItsEndOfLife()),
      // v5: alerts
      new StoredSnapshot("state-v5.txt", sampleStateWithAlerts()),
      // v6: the battery's trend, as checkpointed
      new StoredSnapshot("state-v6.txt", applied(sampleStateWithAlerts(),
          new TelemetryCheckpointed(T.plusSeconds(7000), 62, true, "62;1;1793439015:63,1793440015:62", T.plusSeconds(7000)))));

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyEventTypeHasASample() {
    Set<Class<?>> types = Arrays.stream(Event.class.getPermittedSubclasses())
        .flatMap(c -> c.isSealed() ? Arrays.stream(c.getPermittedSubclasses()) : java.util.stream.Stream.of(c))
        .collect(Collectors.toSet());
    assertEquals(types, SAMPLE_EVENTS.stream().map(Object::getClass).collect(Collectors.toSet()));
  }

  @Test
  void everySiteEventTypeHasASample() {
    Set<Class<?>> types = Arrays.stream(SiteTwin.Event.class.getPermittedSubclasses()).collect(Collectors.toSet());
    assertEquals(types, SITE_SAMPLE_EVENTS.stream().map(Object::getClass).collect(Collectors.toSet()));
  }

  @Test
  void aStoredSiteEventOfEachTypeAndASiteSnapshotStillRead() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    boolean write = Boolean.getBoolean("twinfleet.write-stored-events");
    Map<String, Object> samples = new java.util.LinkedHashMap<>();
    for (SiteTwin.Event event : SITE_SAMPLE_EVENTS) {
      samples.put("Site" + event.getClass().getSimpleName() + ".txt", event);
    }
    samples.put("site-state-v1.txt", sampleSiteState(Duration.ZERO));
    samples.put("site-state-v2.txt", sampleSiteState(Duration.ofMinutes(15)));
    for (Map.Entry<String, Object> sample : samples.entrySet()) {
      Path file = (sample.getValue() instanceof SiteState ? SNAPSHOTS : SAMPLES).resolve(sample.getKey());
      if (write && !Files.exists(file)) {
        write(serialization, sample.getValue(), file);
      }
      assertTrue(Files.exists(file), "no stored sample " + sample.getKey() + " (see class comment)");
      assertEquals(sample.getValue(), read(serialization, file), sample.getKey());
    }
  }

  @Test
  void aStoredEventOfEachTypeStillReads() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    boolean write = Boolean.getBoolean("twinfleet.write-stored-events");
    for (Map.Entry<String, Event> earlier : EARLIER_SHAPES.entrySet()) {
      assertEquals(earlier.getValue(), read(serialization, SAMPLES.resolve(earlier.getKey())), earlier.getKey());
    }
    for (Event event : SAMPLE_EVENTS) {
      String type = event.getClass().getSimpleName();
      String name = EARLIER_SHAPES.containsKey(type + ".txt") ? type + "-v2.txt" : type + ".txt";
      if (write && !Files.exists(SAMPLES.resolve(name))) {
        write(serialization, event, SAMPLES.resolve(name));
      }
      Path sample = SAMPLES.resolve(name);
      assertTrue(Files.exists(sample), "no stored sample of " + event.getClass().getSimpleName() + " (see class comment)");
      assertEquals(event, read(serialization, sample), name);
    }
  }

  @Test
  void aStoredSnapshotOfEachShapeStillReads() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    StoredSnapshot current = SNAPSHOTS_BY_SHAPE.get(SNAPSHOTS_BY_SHAPE.size() - 1);
    if (Boolean.getBoolean("twinfleet.write-stored-events") && !Files.exists(SNAPSHOTS.resolve(current.file()))) {
      write(serialization, current.state(), SNAPSHOTS.resolve(current.file()));
    }
    for (StoredSnapshot stored : SNAPSHOTS_BY_SHAPE) {
      Path file = SNAPSHOTS.resolve(stored.file());
      assertTrue(Files.exists(file), "no stored snapshot " + stored.file() + " (see class comment)");
      assertEquals(stored.state(), read(serialization, file), stored.file());
    }
  }

  private static void write(Serialization serialization, Object value, Path file) throws IOException {
    Serializer serializer = serialization.findSerializerFor(value);
    String sample = serializer.identifier() + "\n" + Serializers.manifestFor(serializer, value) + "\n"
        + Base64.getEncoder().encodeToString(serializer.toBinary(value)) + "\n";
    Files.createDirectories(file.getParent());
    Files.writeString(file, sample);
  }

  private static Object read(Serialization serialization, Path file) throws IOException {
    String[] lines = Files.readString(file, StandardCharsets.US_ASCII).split("\n");
    return serialization.deserialize(Base64.getDecoder().decode(lines[2]), Integer.parseInt(lines[0]), lines[1]).get();
  }
}
