package io.twinfleet.service.device;

/** Why a device was retired. */
public enum DecommissionReason {
  RETURNED,
  REPLACED,
  CHURNED,
  BROKEN
}
