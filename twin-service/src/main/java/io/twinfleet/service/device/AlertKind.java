package io.twinfleet.service.device;

/** What an alert warns of; the thresholds are {@code twinfleet.alerts} settings. */
public enum AlertKind {
  /** The battery is below battery-low-below; over when it is back above battery-recovered-above. */
  BATTERY_LOW,
  /** The battery's recent trend says it will be empty within the forecast horizon. */
  BATTERY_FORECAST,
  /** Claimed, and not activated (no first report) within onboarding-stalled-after. */
  ONBOARDING_STALLED,
  /** At least flapping-disconnects disconnects in the last 24 hours. */
  FLAPPING,
  /** Off line for longer than offline-after. */
  OFFLINE,
  /** A critical fault is open; one alert per fault code. */
  CRITICAL_FAULT
}
