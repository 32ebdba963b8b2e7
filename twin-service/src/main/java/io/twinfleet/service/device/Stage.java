package io.twinfleet.service.device;

/** Where a customer-device pair stands in its journey; see {@link Stages} for the rules. */
public enum Stage {
  UNCLAIMED,
  ONBOARDING,
  DAY_30,
  DAY_60,
  DAY_90,
  MATURE,
  END_OF_LIFE
}
