package io.twinfleet.service.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks bearer JWTs: signature (HS256 with the secret, RS256 with the configured public keys),
 * expiry and not-before against real time with the configured leeway, and the Twinfleet claims:
 * {@code role}, and {@code customer_id} for an app, {@code device_id} for a device.
 */
public final class TokenVerifier {

  /** Why a token was refused, in words a client can act on. */
  public static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  private TokenVerifier(List<JWK> keys, Set<JWSAlgorithm> algorithms, RSAPublicKey pem, long clockSkewSeconds) {
    JWSKeySelector<SecurityContext> byKeyId = new JWSVerificationKeySelector<>(algorithms, new ImmutableJWKSet<>(new JWKSet(keys)));
    // The PEM key has no key id, so it serves RS256 tokens whatever kid their header names.
    processor.setJWSKeySelector(pem == null ? byKeyId : (header, context) -> {
      List<Key> candidates = new ArrayList<>(byKeyId.selectJWSKeys(header, context));
      if (JWSAlgorithm.RS256.equals(header.getAlgorithm())) {
        candidates.add(pem);
      }
      return candidates;
    });
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(null, Set.of("exp", "role"));
    claims.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, clockSkewSeconds));
    processor.setJWTClaimsSetVerifier(claims);
  }

  /** The verifier the settings describe: the secret unless only public keys are configured, plus those keys. */
  public static TokenVerifier of(SecuritySettings settings) throws IOException {
    List<JWK> keys = new ArrayList<>();
    Set<JWSAlgorithm> algorithms = new HashSet<>();
    if (!settings.publicKeysOnly()) {
      keys.add(new OctetSequenceKey.Builder(Secrets.hs256(settings)).build());
      algorithms.add(JWSAlgorithm.HS256);
    }
    RSAPublicKey pem = null;
    if (settings.jwtPublicKeyFile().isPresent()) {
      pem = rsaPublicKey(settings.jwtPublicKeyFile().get());
      algorithms.add(JWSAlgorithm.RS256);
    }
    if (settings.jwtJwksFile().isPresent()) {
      Path file = settings.jwtJwksFile().get();
      try {
        keys.addAll(JWKSet.load(file.toFile()).getKeys());
      } catch (ParseException e) {
        throw new IllegalArgumentException("twinfleet.security.jwt-jwks-file " + file + " is not a JWK set: " + e.getMessage());
      }
      algorithms.add(JWSAlgorithm.RS256);
    }
    return new TokenVerifier(keys, algorithms, pem, settings.clockSkew().toSeconds());
  }

  /** The caller a token names, or why it is refused. */
  public Principal verify(String token) throws Refused {
    JWTClaimsSet claims;
    try {
      claims = processor.process(token, null);
    } catch (ParseException e) {
      throw new Refused("the bearer token is not a JWT: " + e.getMessage());
    } catch (BadJOSEException e) {
      throw new Refused("the bearer token was refused: " + e.getMessage());
    } catch (JOSEException e) {
      throw new Refused("the bearer token could not be checked: " + e.getMessage());
    }
    try {
      Role role = Role.ofClaim(claims.getStringClaim("role"));
      return new Principal(role, claims.getSubject(), claims.getStringClaim("customer_id"), claims.getStringClaim("device_id"));
    } catch (ParseException | IllegalArgumentException e) {
      throw new Refused("the bearer token's claims are not usable: " + e.getMessage());
    }
  }

  /** An RSA public key from a PEM file ({@code -----BEGIN PUBLIC KEY-----}, X.509 SubjectPublicKeyInfo). */
  static RSAPublicKey rsaPublicKey(Path pem) throws IOException {
    String text = Files.readString(pem);
    String body = text.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
    if (!text.contains("-----BEGIN PUBLIC KEY-----") || body.isEmpty()) {
      throw new IllegalArgumentException("twinfleet.security.jwt-public-key-file " + pem + " holds no '-----BEGIN PUBLIC KEY-----' block");
    }
    try {
      return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(body)));
    } catch (GeneralSecurityException | IllegalArgumentException | ClassCastException e) {
      throw new IllegalArgumentException("twinfleet.security.jwt-public-key-file " + pem + " is not an RSA public key: " + e.getMessage());
    }
  }
}
