package io.twinfleet.service.api.grpc;

import io.twinfleet.service.device.Validation.InvalidField;

/** The paging rules every list RPC shares: a page size (or limit) of 1 to 500, unset meaning 50. */
final class Paging {

  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 500;

  private Paging() {}

  static int pageSize(String field, int requested) {
    if (requested == 0) {
      return DEFAULT_PAGE_SIZE;
    }
    if (requested < 0 || requested > MAX_PAGE_SIZE) {
      throw new InvalidField(field, requested + " is outside 1.." + MAX_PAGE_SIZE);
    }
    return requested;
  }
}
