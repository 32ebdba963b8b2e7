package io.twinfleet.service.quality;

/** What the fleet's time is broken down by; {@link #ALL} is the whole fleet, with the one value "". */
public enum QualityDimension {
  ALL,
  FIRMWARE,
  MODEL,
  FAULT,
  STAGE;

  /** The value of {@link #FAULT} for a device with no fault open. */
  public static final String NO_FAULT = "none";
}
