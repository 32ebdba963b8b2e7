package io.twinfleet.service.security;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Which roles may call which method. {@code admin} may call everything; the others what is listed
 * here, and nothing new until it is listed. Within a method a service narrows further what an
 * {@code app} or a {@code device} sees ({@link Principal#seesCustomer}, {@link Principal#speaksFor}).
 */
final class Access {

  /** Methods that need no token: they tell nothing about any device. */
  static final Set<String> OPEN_SERVICES = Set.of(
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection");

  private static final Set<Role> APP = EnumSet.of(Role.APP);
  private static final Set<Role> DEVICE = EnumSet.of(Role.DEVICE);
  // Journey and support teams read sites too: availability and the SLA are part of service quality.
  private static final Set<Role> JOURNEY = EnumSet.of(Role.JOURNEY);
  private static final Set<Role> APP_OR_JOURNEY = EnumSet.of(Role.APP, Role.JOURNEY);

  private static final Map<String, Set<Role>> BY_METHOD = Map.ofEntries(
      Map.entry("twinfleet.v1.DeviceService/GetDevice", APP),
      Map.entry("twinfleet.v1.DeviceService/WatchDevice", APP),
      Map.entry("twinfleet.v1.DeviceService/ListCustomerDevices", APP),
      Map.entry("twinfleet.v1.SiteService/GetSite", APP_OR_JOURNEY),
      Map.entry("twinfleet.v1.SiteService/WatchSite", APP),
      Map.entry("twinfleet.v1.SiteService/GetSiteSla", APP_OR_JOURNEY),
      Map.entry("twinfleet.v1.SiteService/ListSites", JOURNEY),
      Map.entry("twinfleet.v1.TelemetryService/Report", DEVICE),
      Map.entry("twinfleet.v1.TelemetryService/ReportStream", DEVICE));

  private static final Set<String> JOURNEY_SERVICES = Set.of("twinfleet.v1.JourneyService", "twinfleet.v1.QualityService");

  private Access() {}

  static boolean open(String serviceName) {
    return OPEN_SERVICES.contains(serviceName);
  }

  static boolean allows(Role role, String serviceName, String fullMethodName) {
    if (role == Role.ADMIN) {
      return true;
    }
    if (role == Role.JOURNEY && JOURNEY_SERVICES.contains(serviceName)) {
      return true;
    }
    return BY_METHOD.getOrDefault(fullMethodName, Set.of()).contains(role);
  }
}
