package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.ManagedChannel;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import io.twinfleet.service.NodeTestBase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Only with the explicit insecure setting does a call without a token get anything, and then everything. */
class InsecureModeIntegrationTest extends NodeTestBase {

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    startNode(ks, "twinfleet.security.insecure = on");
  }

  @Test
  void everyCallIsServedWithoutAToken() {
    ManagedChannel anonymous = node.channel(null);
    try {
      var devices = DeviceServiceGrpc.newBlockingStub(anonymous);
      devices.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId("open-1").setModel("m").setSerial("s").build());
      assertEquals("open-1", devices.getDevice(GetDeviceRequest.newBuilder().setDeviceId("open-1").build()).getDeviceId());
    } finally {
      anonymous.shutdownNow();
    }
  }
}
