package io.twinfleet.service.device;

import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * Field rules shared by every API: each check names the field and says what to fix, so the message
 * can go back to the client as it is.
 */
public final class Validation {

  /** Device, customer and site ids. */
  public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");

  public static final int MAX_TEXT = 64;
  public static final int MAX_FAULTS_PER_READING = 32;
  public static final Duration MIN_HEARTBEAT = Duration.ofSeconds(10);
  public static final Duration MAX_HEARTBEAT = Duration.ofHours(24);

  private Validation() {}

  /** A rejected field: {@code field} is the request path, e.g. {@code readings[3].battery_percent}. */
  public static final class InvalidField extends RuntimeException {
    public InvalidField(String field, String problem) {
      super(field + ": " + problem);
    }
  }

  public static String id(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new InvalidField(field, "required");
    }
    if (!ID.matcher(value).matches()) {
      throw new InvalidField(field, "'" + abbreviate(value) + "' must match " + ID.pattern());
    }
    return value;
  }

  /**
   * A name, version or code: 1 to {@link #MAX_TEXT} characters that all show, with no control,
   * formatting (zero-width, direction), separator or unassigned ones and no broken surrogate.
   */
  public static String text(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new InvalidField(field, "required");
    }
    if (value.length() > MAX_TEXT) {
      throw new InvalidField(field, value.length() + " characters; 1 to " + MAX_TEXT + " printable characters");
    }
    for (int i = 0; i < value.length(); i = value.offsetByCodePoints(i, 1)) {
      int c = value.codePointAt(i);
      int type = Character.getType(c);
      if (type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR || unreadable(c)) {
        throw new InvalidField(field, "character U+" + String.format("%04X", c) + " at " + i + "; 1 to " + MAX_TEXT + " printable characters");
      }
    }
    return value;
  }

  /**
   * Free text up to {@code max} characters, possibly empty: line breaks and tabs allowed, and the
   * joiners of emoji; other control characters, direction overrides (which make text read other
   * than it is stored), unassigned code points and broken surrogates not.
   */
  public static String note(String field, String value, int max) {
    if (value.length() > max) {
      throw new InvalidField(field, value.length() + " characters, at most " + max);
    }
    for (int i = 0; i < value.length(); i = value.offsetByCodePoints(i, 1)) {
      int c = value.codePointAt(i);
      boolean allowed = c == '\n' || c == '\r' || c == '\t';
      boolean direction = c >= 0x202A && c <= 0x202E || c >= 0x2066 && c <= 0x2069;
      if (!allowed && (unreadable(c) || direction)) {
        throw new InvalidField(field, "character U+" + String.format("%04X", c) + " at " + i + " is not allowed");
      }
    }
    return value;
  }

  /** Control characters, unassigned code points and lone surrogates. */
  private static boolean unreadable(int c) {
    int type = Character.getType(c);
    return type == Character.CONTROL || type == Character.UNASSIGNED || type == Character.SURROGATE;
  }

  /** A time something happened: not further ahead of {@code now} than the allowed clock skew. */
  public static Instant notAhead(String field, Instant value, Instant now, DeviceSettings settings) {
    if (value.isAfter(now.plus(settings.maxClockSkew()))) {
      throw new InvalidField(field, value + " is more than " + settings.maxClockSkew() + " ahead of the service clock (" + now + ")");
    }
    return value;
  }

  public static int percent(String field, int value) {
    if (value < 0 || value > 100) {
      throw new InvalidField(field, value + " is outside 0..100");
    }
    return value;
  }

  public static Duration heartbeat(String field, Duration value) {
    if (value.compareTo(MIN_HEARTBEAT) < 0 || value.compareTo(MAX_HEARTBEAT) > 0) {
      throw new InvalidField(field, value + " is outside " + MIN_HEARTBEAT + ".." + MAX_HEARTBEAT);
    }
    return value;
  }

  /** A device timestamp: not further ahead of {@code now} than the skew, not older than the age. */
  public static Instant observedAt(String field, Instant value, Instant now, DeviceSettings settings) {
    if (value == null) {
      throw new InvalidField(field, "required");
    }
    notAhead(field, value, now, settings);
    if (value.isBefore(now.minus(settings.maxReadingAge()))) {
      throw new InvalidField(field, value + " is more than " + settings.maxReadingAge() + " old");
    }
    return value;
  }

  /** A value as it may appear in a message: at most 80 characters. */
  public static String abbreviate(String value) {
    if (value.length() <= 80) {
      return value;
    }
    int cut = Character.isHighSurrogate(value.charAt(76)) ? 76 : 77; // never half a character
    return value.substring(0, cut) + "...";
  }
}
