package io.twinfleet.service.api.grpc;

import io.twinfleet.protocol.v1.Device;

/** Comparing device views in tests. */
final class DeviceViews {

  private DeviceViews() {}

  /** A view without its uptimes, whose counted time grows with the clock while the device lives. */
  static Device withoutUptime(Device d) {
    return d.toBuilder().clearUptime24H().clearUptime7D().clearUptime30D().clearUptimeSinceActivation().build();
  }
}
