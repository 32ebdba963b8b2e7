package io.twinfleet.service.security;

import io.grpc.Context;

/**
 * Who is calling, as the token says: its role, and for an {@code app} the customer, for a
 * {@code device} the device it may speak for. Services read it from the call's context.
 */
public record Principal(Role role, String subject, String customerId, String deviceId) {

  static final Context.Key<Principal> KEY = Context.key("twinfleet-principal");

  /** Everyone, when the node runs without authentication (an explicit insecure setting). */
  public static final Principal INSECURE = new Principal(Role.ADMIN, "insecure", null, null);

  public Principal {
    if (role == Role.APP && customerId == null) {
      throw new IllegalArgumentException("an app token needs a customer_id claim");
    }
    if (role == Role.DEVICE && deviceId == null) {
      throw new IllegalArgumentException("a device token needs a device_id claim");
    }
  }

  /**
   * The caller of the current gRPC call. Every call passes the {@link AuthInterceptor}, which sets
   * it; a call that did not is a wiring mistake, and fails rather than letting anyone in.
   */
  public static Principal current() {
    Principal p = KEY.get();
    if (p == null) {
      throw new IllegalStateException("no caller in this context: the call did not pass the AuthInterceptor");
    }
    return p;
  }

  /** Whether this caller may see the devices and sites of {@code customer}. */
  public boolean seesCustomer(String customer) {
    return role != Role.APP || customerId.equals(customer);
  }

  /** Whether this caller may report for {@code device}. */
  public boolean speaksFor(String device) {
    return role != Role.DEVICE || deviceId.equals(device);
  }
}
