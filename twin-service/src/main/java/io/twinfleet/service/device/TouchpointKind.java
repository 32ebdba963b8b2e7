package io.twinfleet.service.device;

/** What a journey team did with a customer. */
public enum TouchpointKind {
  ONBOARDING_CALL,
  DAY_30_CHECKIN,
  DAY_60_CHECKIN,
  DAY_90_CHECKIN,
  SUPPORT_CONTACT,
  COMPLAINT,
  UPSELL
}
