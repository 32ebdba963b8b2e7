package io.twinfleet.service.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token checks without a server: signatures, times, claims, keys and their rotation. */
class TokenVerifierTest {

  private static final String SECRET = "a-development-secret-of-32-bytes!";
  private static final Instant NOW = Instant.now();

  @TempDir
  Path dir;

  private SecuritySettings hs256() {
    return settings(Optional.of(SECRET), Optional.empty(), Optional.empty());
  }

  private SecuritySettings settings(Optional<String> secret, Optional<Path> pem, Optional<Path> jwks) {
    return new SecuritySettings(false, secret, dir.resolve("jwt-secret"), pem, jwks, Duration.ofSeconds(30), Optional.empty(), Optional.empty());
  }

  private static String hs(Map<String, Object> claims, Instant notBefore, Instant expires) throws JOSEException {
    return signed(new JWSHeader(JWSAlgorithm.HS256), claims, notBefore, expires, new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
  }

  private static String signed(JWSHeader header, Map<String, Object> claims, Instant notBefore, Instant expires,
      com.nimbusds.jose.JWSSigner signer) throws JOSEException {
    JWTClaimsSet.Builder b = new JWTClaimsSet.Builder();
    claims.forEach(b::claim);
    if (notBefore != null) {
      b.notBeforeTime(Date.from(notBefore));
    }
    if (expires != null) {
      b.expirationTime(Date.from(expires));
    }
    SignedJWT jwt = new SignedJWT(header, b.build());
    jwt.sign(signer);
    return jwt.serialize();
  }

  private static String refusal(TokenVerifier v, String token) {
    return assertThrows(TokenVerifier.Refused.class, () -> v.verify(token)).getMessage();
  }

  @Test
  void aMintedTokenNamesItsCaller() throws Exception {
    TokenVerifier v = TokenVerifier.of(hs256());
    byte[] secret = SECRET.getBytes(StandardCharsets.UTF_8);
    assertEquals(new Principal(Role.APP, "app:c-1", "c-1", null), v.verify(Tokens.mint(secret, Role.APP, "c-1", null, Duration.ofHours(1), NOW)));
    assertEquals(Role.DEVICE, v.verify(Tokens.mint(secret, Role.DEVICE, null, "d-1", Duration.ofHours(1), NOW)).role());
    assertEquals("d-1", v.verify(Tokens.mint(secret, Role.DEVICE, null, "d-1", Duration.ofHours(1), NOW)).deviceId());
    assertEquals(Role.ADMIN, v.verify(Tokens.mint(secret, Role.ADMIN, null, null, Duration.ofHours(1), NOW)).role());
  }

  @Test
  void expiryAndNotBeforeAreEnforcedWithTheLeeway() throws Exception {
    TokenVerifier v = TokenVerifier.of(hs256());
    Map<String, Object> admin = Map.of("role", "admin");
    assertTrue(refusal(v, hs(admin, null, NOW.minusSeconds(60))).contains("Expired"));
    assertEquals(Role.ADMIN, v.verify(hs(admin, null, NOW.minusSeconds(10))).role(), "10 s past expiry is within 30 s of leeway");
    assertTrue(refusal(v, hs(admin, NOW.plusSeconds(120), NOW.plusSeconds(3600))).contains("before use time"));
    assertTrue(refusal(v, hs(admin, null, null)).contains("exp"), "a token without expiry is refused");
  }

  @Test
  void claimsMustMakeSense() throws Exception {
    TokenVerifier v = TokenVerifier.of(hs256());
    Instant exp = NOW.plusSeconds(3600);
    assertTrue(refusal(v, hs(Map.of("sub", "x"), null, exp)).contains("role"));
    assertTrue(refusal(v, hs(Map.of("role", "root"), null, exp)).contains("unknown role 'root'"));
    assertTrue(refusal(v, hs(Map.of("role", "app"), null, exp)).contains("customer_id"));
    assertTrue(refusal(v, hs(Map.of("role", "device"), null, exp)).contains("device_id"));
  }

  @Test
  void forgedMalformedAndUnsignedTokensAreRefused() throws Exception {
    TokenVerifier v = TokenVerifier.of(hs256());
    String other = signed(new JWSHeader(JWSAlgorithm.HS256), Map.of("role", "admin"), null, NOW.plusSeconds(3600),
        new MACSigner("another-secret-of-at-least-32-bytes".getBytes(StandardCharsets.UTF_8)));
    assertTrue(refusal(v, other).contains("refused"));
    assertTrue(refusal(v, "not-a-jwt").contains("not a JWT"));
    String[] parts = hs(Map.of("role", "app", "customer_id", "c-1"), null, NOW.plusSeconds(3600)).split("\\.");
    String elevated = Base64.getUrlEncoder().withoutPadding().encodeToString(
        ("{\"role\":\"admin\",\"exp\":" + NOW.plusSeconds(3600).getEpochSecond() + "}").getBytes(StandardCharsets.UTF_8));
    refusal(v, parts[0] + "." + elevated + "." + parts[2]);
    String none = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
    refusal(v, none + "." + elevated + ".");
  }

  @Test
  void rs256WithAPemPublicKeyAndNoSecretRefusesHs256() throws Exception {
    KeyPair pair = rsa();
    Path pem = dir.resolve("public.pem");
    Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n");
    TokenVerifier v = TokenVerifier.of(settings(Optional.empty(), Optional.of(pem), Optional.empty()));
    String rs = signed(new JWSHeader(JWSAlgorithm.RS256), Map.of("role", "journey"), null, NOW.plusSeconds(3600),
        new RSASSASigner((RSAPrivateKey) pair.getPrivate()));
    assertEquals(Role.JOURNEY, v.verify(rs).role());
    refusal(v, hs(Map.of("role", "admin"), null, NOW.plusSeconds(3600)));
    assertTrue(Files.notExists(dir.resolve("jwt-secret")), "no secret is generated when only public keys are configured");
  }

  @Test
  void aPemKeyServesTokensWhateverKidTheyNameAndItsBytesAreNoHmacSecret() throws Exception {
    KeyPair pair = rsa();
    Path pem = dir.resolve("public.pem");
    Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n" + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n");
    TokenVerifier v = TokenVerifier.of(settings(Optional.of(SECRET), Optional.of(pem), Optional.empty()));
    String withKid = signed(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("idp-key-7").build(), Map.of("role", "admin"), null,
        NOW.plusSeconds(3600), new RSASSASigner((RSAPrivateKey) pair.getPrivate()));
    assertEquals(Role.ADMIN, v.verify(withKid).role());
    String confused = signed(new JWSHeader(JWSAlgorithm.HS256), Map.of("role", "admin"), null, NOW.plusSeconds(3600),
        new MACSigner(Files.readAllBytes(pem)));
    assertTrue(refusal(v, confused).contains("refused"), "an HS256 token keyed with the public key's text is not accepted");
    assertEquals(Role.ADMIN, v.verify(hs(Map.of("role", "admin"), null, NOW.plusSeconds(3600))).role(), "the secret still works beside the key");
  }

  @Test
  void aJwksFileLetsKeysRotateByKid() throws Exception {
    RSAKey old = new RSAKey.Builder((RSAPublicKey) rsa().getPublic()).keyID("2026-11").build();
    KeyPair next = rsa();
    RSAKey fresh = new RSAKey.Builder((RSAPublicKey) next.getPublic()).keyID("2026-12").build();
    Path jwks = dir.resolve("keys.json");
    Files.writeString(jwks, new JWKSet(java.util.List.of(old, fresh)).toString());
    TokenVerifier v = TokenVerifier.of(settings(Optional.empty(), Optional.empty(), Optional.of(jwks)));
    RSASSASigner signer = new RSASSASigner((RSAPrivateKey) next.getPrivate());
    String withKid = signed(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("2026-12").build(), Map.of("role", "admin"), null,
        NOW.plusSeconds(3600), signer);
    assertEquals(Role.ADMIN, v.verify(withKid).role());
    String wrongKid = signed(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("2026-11").build(), Map.of("role", "admin"), null,
        NOW.plusSeconds(3600), signer);
    refusal(v, wrongKid);
  }

  @Test
  void theDevelopmentSecretIsGeneratedOnceAndKeptPrivate() throws Exception {
    SecuritySettings none = settings(Optional.empty(), Optional.empty(), Optional.empty());
    byte[] first = Secrets.hs256(none);
    assertEquals(32, first.length);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("jwt-secret"))));
    assertEquals(Base64.getEncoder().encodeToString(first), Base64.getEncoder().encodeToString(Secrets.hs256(none)), "read back, not replaced");
    String token = Tokens.mint(first, Role.ADMIN, null, null, Duration.ofMinutes(5), NOW);
    assertEquals(Role.ADMIN, TokenVerifier.of(none).verify(token).role());
    var shortSecret = settings(Optional.of("too-short"), Optional.empty(), Optional.empty());
    assertThrows(IllegalArgumentException.class, () -> Secrets.hs256(shortSecret));
  }

  private static KeyPair rsa() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }
}
