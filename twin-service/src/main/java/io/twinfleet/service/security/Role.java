package io.twinfleet.service.security;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What a token lets its bearer do (see {@link Access}). */
public enum Role {
  /** Reports telemetry for its own device id only. */
  DEVICE,
  /** Reads and watches its own customer's devices and sites only. */
  APP,
  /** The journey and quality APIs: stages, funnels, touchpoints, churn risk, fleet quality, alerts. */
  JOURNEY,
  /** Everything. */
  ADMIN;

  /** The name in a token's {@code role} claim. */
  public String claim() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role named by a {@code role} claim, or an exception naming the ones there are. */
  public static Role ofClaim(String claim) {
    for (Role r : values()) {
      if (r.claim().equals(claim)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown role '" + claim + "': one of " + names());
  }

  public static String names() {
    return Arrays.stream(values()).map(Role::claim).collect(Collectors.joining(", "));
  }
}
