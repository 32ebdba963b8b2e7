package io.twinfleet.service.api.grpc;

import com.typesafe.config.Config;
import java.time.Duration;

/** The {@code twinfleet.grpc} settings, read once. */
public record GrpcSettings(
    String host, int port, int maxInboundMessageSize, Duration askTimeout, int maxBatchSize, int maxBatchesInFlight,
    int maxReadingsInFlight, boolean baselineSink) {

  public GrpcSettings {
    if (maxBatchSize < 1 || maxBatchesInFlight < 1 || maxReadingsInFlight < maxBatchSize) {
      throw new IllegalArgumentException("twinfleet.grpc: max-batch-size and max-batches-in-flight must be positive, max-readings-in-flight ("
          + maxReadingsInFlight + ") at least max-batch-size (" + maxBatchSize + ")");
    }
  }

  public static GrpcSettings fromConfig(Config root) {
    Config c = root.getConfig("twinfleet.grpc");
    return new GrpcSettings(
        c.getString("host"),
        c.getInt("port"),
        (int) Math.min(Integer.MAX_VALUE, c.getBytes("max-inbound-message-size")),
        c.getDuration("ask-timeout"),
        c.getInt("max-batch-size"),
        c.getInt("max-batches-in-flight"),
        c.getInt("max-readings-in-flight"),
        c.getBoolean("baseline-sink"));
  }
}
