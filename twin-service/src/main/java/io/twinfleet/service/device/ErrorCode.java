package io.twinfleet.service.device;

/**
 * Why a twin refused a command. Deliberately the subset of gRPC codes a twin can decide; the API
 * layer maps them to gRPC statuses in one place.
 */
public enum ErrorCode {
  INVALID_ARGUMENT,
  NOT_FOUND,
  ALREADY_EXISTS,
  FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED,
  UNAVAILABLE
}
