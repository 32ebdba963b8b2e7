package io.twinfleet.service.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/** Development tokens, signed HS256 with the configured secret ({@code ./twinfleet token}, the demo, tests). */
public final class Tokens {

  private Tokens() {}

  /** For clients: a channel interceptor that sends {@code token} as the bearer of every call. */
  public static ClientInterceptor bearer(String token) {
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  /**
   * A token for {@code role}, with {@code customer} for an app and {@code device} for a device
   * (refused otherwise), valid from now for {@code ttl} of real time.
   */
  public static String mint(byte[] secret, Role role, String customer, String device, Duration ttl, Instant now) {
    new Principal(role, null, customer, device); // the same rules the verifier applies
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("a token must live for a while, not " + ttl);
    }
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .subject(role.claim() + (customer != null ? ":" + customer : "") + (device != null ? ":" + device : ""))
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(now.plus(ttl)))
        .claim("role", role.claim());
    if (customer != null) {
      claims.claim("customer_id", customer);
    }
    if (device != null) {
      claims.claim("device_id", device);
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
    try {
      jwt.sign(new MACSigner(secret));
    } catch (JOSEException e) {
      throw new IllegalArgumentException("cannot sign with this secret: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }
}
