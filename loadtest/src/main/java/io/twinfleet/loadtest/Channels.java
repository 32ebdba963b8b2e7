package io.twinfleet.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.twinfleet.service.security.Tokens;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Connections to the service: one per stream, since one connection is served by one core. */
final class Channels {

  private Channels() {}

  /** {@code count} connections to {@code target}, each sending {@code token} with every call. */
  static List<ManagedChannel> open(String target, int count, String token) {
    InetSocketAddress address = address(target);
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      channels.add(NettyChannelBuilder.forAddress(address.getHostString(), address.getPort())
          .usePlaintext()
          .maxInboundMessageSize(16 * 1024 * 1024)
          .intercept(Tokens.bearer(token))
          .build());
    }
    return channels;
  }

  static void close(List<ManagedChannel> channels) throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      c.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("host:port expected, not '" + hostPort + "'");
    }
    String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("host:port expected, not '" + hostPort + "'");
    }
    return new InetSocketAddress(host, port);
  }

  /** The load generator only ever talks to this machine: it must not flood anyone else's service. */
  static void requireLoopback(String option, String hostPort) {
    InetSocketAddress a = address(hostPort);
    try {
      if (!InetAddress.getByName(a.getHostString()).isLoopbackAddress()) {
        throw new IllegalArgumentException(option + " must be a loopback address (127.0.0.1, localhost, ::1), was " + hostPort);
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(option + ": unknown host in " + hostPort);
    }
  }
}
