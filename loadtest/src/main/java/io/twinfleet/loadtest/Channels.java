package io.twinfleet.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.twinfleet.service.security.Tokens;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Connections to the service: one per stream, since one connection is served by one core. */
final class Channels {

  private Channels() {}

  /**
   * {@code count} connections, each sending {@code token} with every call; {@code targets} is one
   * host:port or a comma-separated list of nodes, which the connections go to in turn (the first to
   * the first node).
   */
  static List<ManagedChannel> open(String targets, int count, String token) {
    List<InetSocketAddress> addresses = Arrays.stream(targets.split(",")).map(String::strip).map(Channels::address).toList();
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      InetSocketAddress address = addresses.get(i % addresses.size());
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

  /**
   * The load generator only ever talks to this machine: it must not flood anyone else's service.
   * {@code hostPorts} is one host:port or a comma-separated list.
   */
  static void requireLoopback(String option, String hostPorts) {
    for (String hostPort : hostPorts.split(",")) {
      requireLoopbackAddress(option, hostPort.strip());
    }
  }

  private static void requireLoopbackAddress(String option, String hostPort) {
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
