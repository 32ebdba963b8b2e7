package io.twinfleet.service.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DeviceSettingsTest {

  private static final Config SHIPPED = ConfigFactory.parseResources("twinfleet.conf");

  private static DeviceSettings with(String overrides) {
    return DeviceSettings.fromConfig(ConfigFactory.parseString(overrides).withFallback(SHIPPED).resolve());
  }

  @Test
  void theCheckpointIntervalIsRealTimeSoAnAcceleratedClockStretchesItsServiceTime() {
    assertEquals(Duration.ofMinutes(10), with("twinfleet.clock.speed = 1").checkpointInterval());
    assertEquals(Duration.ofDays(5), with("twinfleet.clock.speed = 720").checkpointInterval(),
        "10 real minutes at 720x: a twin reporting every few simulated minutes still costs one write per 10 real minutes");
    assertEquals(Duration.ofHours(720), with("twinfleet.clock.speed = 720\ntwinfleet.device.checkpoint-interval = 1h").checkpointInterval());
  }

  @Test
  void otherDurationsAreServiceTime() {
    DeviceSettings fast = with("twinfleet.clock.speed = 720");
    DeviceSettings real = with("twinfleet.clock.speed = 1");
    assertEquals(real.defaultHeartbeatInterval(), fast.defaultHeartbeatInterval());
    assertEquals(real.maxClockSkew(), fast.maxClockSkew());
    assertEquals(real.maxReadingAge(), fast.maxReadingAge());
  }
}
