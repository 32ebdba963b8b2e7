package io.twinfleet.service.device;

/** How serious a fault is; a CRITICAL one stops the device from working. */
public enum Severity {
  INFO,
  WARNING,
  CRITICAL
}
