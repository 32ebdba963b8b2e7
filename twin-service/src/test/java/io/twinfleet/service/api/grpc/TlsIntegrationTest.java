package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.service.NodeTestBase;
import io.twinfleet.service.TestNode;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Tokens;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With a certificate and key configured, a TLS client that trusts the certificate gets answers; a plaintext one does not. */
class TlsIntegrationTest extends NodeTestBase {

  private static Path cert;

  @BeforeAll
  static void start(TestKeyspace ks) throws Exception {
    Path dir = Files.createTempDirectory("tls-it");
    cert = dir.resolve("node.crt");
    Path key = dir.resolve("node.key");
    selfSigned(dir, cert, key);
    startNode(ks, "twinfleet.security.tls-cert-file = \"" + cert + "\"\ntwinfleet.security.tls-key-file = \"" + key + "\"");
  }

  /** A self-signed certificate for localhost and 127.0.0.1 and its key, as PEM files, made with the JDK's keytool. */
  static void selfSigned(Path dir, Path certFile, Path keyFile) throws Exception {
    Path store = dir.resolve("node.p12");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", "node",
        "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
        "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit")
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), output);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    Files.writeString(certFile, pem("CERTIFICATE", ks.getCertificate("node").getEncoded()));
    Files.writeString(keyFile, pem("PRIVATE KEY", ((PrivateKey) ks.getKey("node", "changeit".toCharArray())).getEncoded()));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  @Test
  void aTlsClientIsAnsweredAndAPlaintextOneIsNot() throws Exception {
    int port = node.grpcPort();
    String token = TestNode.token(Role.ADMIN, null, null);
    ManagedChannel tls = NettyChannelBuilder.forAddress("127.0.0.1", port)
        .sslContext(GrpcSslContexts.forClient().trustManager(cert.toFile()).build())
        .overrideAuthority("localhost")
        .intercept(Tokens.bearer(token))
        .build();
    ManagedChannel plain = node.channel(token);
    try {
      GetDeviceRequest unknown = GetDeviceRequest.newBuilder().setDeviceId("tls-none").build();
      StatusRuntimeException answered = assertThrows(StatusRuntimeException.class,
          () -> DeviceServiceGrpc.newBlockingStub(tls).withDeadlineAfter(10, TimeUnit.SECONDS).getDevice(unknown));
      assertEquals(Status.Code.NOT_FOUND, answered.getStatus().getCode(), "over TLS the service answers: " + answered.getStatus());
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> DeviceServiceGrpc.newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS).getDevice(unknown));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), "plaintext gets no answer: " + refused.getStatus());
    } finally {
      tls.shutdownNow();
      plain.shutdownNow();
    }
  }

  @Test
  void theDashboardsApiTakesNoTokenOverThePlainHttpPortWhileGrpcSpeaksTls() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> api = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/overview"))
        .header("Authorization", "Bearer " + TestNode.token(Role.JOURNEY, null, null)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(403, api.statusCode(), api.body());
    assertTrue(api.body().contains("\"code\":\"FAILED_PRECONDITION\"") && api.body().contains("api-without-tls"), api.body());
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, metrics.statusCode(), "metrics carry no token and stay");
  }
}
