package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.twinfleet.service.device.DeviceTwin.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
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

  static final List<Event> SAMPLE_EVENTS = List.of(
      new DeviceRegistered("charger-ac22", "SN-0042", Duration.ofMinutes(5), "3.1.4", T),
      new DeviceClaimed("cust-7", "carpark-3", "charger-ac22", T),
      new DeviceMoved("cust-7", "carpark-3", "carpark-4", T),
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
      new TelemetryCheckpointed(T, 64, true, T),
      new DeviceDecommissioned("cust-7", DecommissionReason.REPLACED, T),
      new TouchpointRecorded("tp-1", TouchpointKind.DAY_30_CHECKIN, "Happy so far; asked about\nthe app.", T.minusSeconds(3600), T),
      new ChurnRiskChanged(42, List.of(
          new ChurnRisk.Scored(ChurnRisk.Factor.UPTIME, 20, 0.9567),
          new ChurnRisk.Scored(ChurnRisk.Factor.FLAPPING, 12, 4),
          new ChurnRisk.Scored(ChurnRisk.Factor.STAGE, 5, 2)), T));

  /** A twin that registered, was claimed, reported, raised a fault and was checkpointed. */
  static DeviceState sampleState() {
    return applied(DeviceState.UNREGISTERED,
        new DeviceRegistered("charger-ac22", "SN-0042", Duration.ofMinutes(5), "3.1.4", T),
        new DeviceClaimed("cust-7", "carpark-3", "charger-ac22", T.plusSeconds(60)),
        new StageChanged(Stage.UNCLAIMED, Stage.ONBOARDING, T.plusSeconds(60)),
        new CameOnline(T.plusSeconds(120)),
        new DeviceActivated(T.plusSeconds(120)),
        new StageChanged(Stage.ONBOARDING, Stage.DAY_30, T.plusSeconds(120)),
        new FaultRaised("E42", Severity.CRITICAL, T.plusSeconds(180)),
        new TelemetryCheckpointed(T.plusSeconds(900), 64, false, T.plusSeconds(900)));
  }

  /** The same twin after two offline episodes and a graceful stop. */
  static DeviceState sampleStateWithOfflineHistory() {
    return applied(sampleState(),
        new WentOffline(T.plusSeconds(1500)),
        new CameOnline(T.plusSeconds(2100)),
        new WentOffline(T.plusSeconds(2700)),
        new CameOnline(T.plusSeconds(4000)),
        new TelemetryCheckpointed(T.plusSeconds(4100), 63, true, T.plusSeconds(4200)));
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
      new StoredSnapshot("state-v4.txt", sampleStateRetiredAfterItsEndOfLife()));

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyEventTypeHasASample() {
    Set<Class<?>> types = Arrays.stream(Event.class.getPermittedSubclasses()).collect(Collectors.toSet());
    assertEquals(types, SAMPLE_EVENTS.stream().map(Object::getClass).collect(Collectors.toSet()));
  }

  @Test
  void aStoredEventOfEachTypeStillReads() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    boolean write = Boolean.getBoolean("twinfleet.write-stored-events");
    for (Event event : SAMPLE_EVENTS) {
      String name = event.getClass().getSimpleName() + ".txt";
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
