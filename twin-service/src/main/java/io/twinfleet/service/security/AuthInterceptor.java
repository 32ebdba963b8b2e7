package io.twinfleet.service.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Every call's authentication and role check, in one place: a bearer JWT in the
 * {@code authorization} header, checked by the {@link TokenVerifier}; its role must be allowed the
 * method ({@link Access}). Health and reflection need no token. The caller goes into the call's
 * context for the services' narrower checks ({@link Principal#current}). With the explicit
 * insecure setting every call is {@link Principal#INSECURE}.
 */
public final class AuthInterceptor implements ServerInterceptor {

  public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String BEARER = "Bearer ";

  private final TokenVerifier verifier; // null when insecure

  private AuthInterceptor(TokenVerifier verifier) {
    this.verifier = verifier;
  }

  public static AuthInterceptor checking(TokenVerifier verifier) {
    return new AuthInterceptor(verifier);
  }

  public static AuthInterceptor insecure() {
    return new AuthInterceptor(null);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String service = call.getMethodDescriptor().getServiceName();
    String method = call.getMethodDescriptor().getFullMethodName();
    Principal caller;
    if (verifier == null) {
      caller = Principal.INSECURE;
    } else if (Access.open(service)) {
      return next.startCall(call, headers);
    } else {
      String header = headers.get(AUTHORIZATION);
      if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
        return refuse(call, Status.UNAUTHENTICATED.withDescription(
            "no bearer token: send the header 'authorization: Bearer <JWT>' (./twinfleet token mints development tokens)"));
      }
      try {
        caller = verifier.verify(header.substring(BEARER.length()).strip());
      } catch (TokenVerifier.Refused e) {
        return refuse(call, Status.UNAUTHENTICATED.withDescription(e.getMessage()));
      }
      if (!Access.allows(caller.role(), service, method)) {
        return refuse(call, Status.PERMISSION_DENIED.withDescription("the role " + caller.role().claim() + " may not call " + method));
      }
    }
    return Contexts.interceptCall(Context.current().withValue(Principal.KEY, caller), call, headers, next);
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
