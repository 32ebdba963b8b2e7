package io.twinfleet.service;

import io.twinfleet.service.device.Validation.InvalidField;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Page tokens of the list RPCs: where a listing goes on, tied to the filters it was issued for, as
 * URL-safe base64 of {@code fingerprint|part|part...}. A token that is not one of ours, or was
 * issued for other filters, is INVALID_ARGUMENT on {@code page_token}.
 */
public final class PageTokens {

  private PageTokens() {}

  public static String encode(String fingerprint, Object... parts) {
    StringBuilder plain = new StringBuilder(fingerprint);
    for (Object p : parts) {
      plain.append('|').append(p);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** The {@code count} parts of a token issued for {@code fingerprint}. */
  public static String[] decode(String fingerprint, String token, int count) {
    String[] parts;
    try {
      parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\\|", -1);
    } catch (IllegalArgumentException e) {
      throw notOurs();
    }
    if (parts.length != count + 1) {
      throw notOurs();
    }
    if (!parts[0].equals(fingerprint)) {
      throw new InvalidField("page_token", "issued for other filters; send the filters of the first page");
    }
    String[] out = new String[count];
    System.arraycopy(parts, 1, out, 0, count);
    return out;
  }

  /** A part of a token that must be a number from 0 to {@code below} - 1. */
  public static int index(String part, int below) {
    try {
      int i = Integer.parseInt(part);
      if (i < 0 || i >= below) {
        throw notOurs();
      }
      return i;
    } catch (NumberFormatException e) {
      throw notOurs();
    }
  }

  public static InvalidField notOurs() {
    return new InvalidField("page_token", "not a token this service issued");
  }
}
