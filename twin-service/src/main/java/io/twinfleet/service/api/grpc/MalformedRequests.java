package io.twinfleet.service.api.grpc;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests whose bytes do not parse (not protobuf, or a string field that is not UTF-8) end with
 * INVALID_ARGUMENT. gRPC itself would end them with UNKNOWN ("Application error processing RPC")
 * and log a stack trace: it parses before any interceptor sees the message and treats a parse
 * failure as the application's. Here each method's request marshaller hands on {@code null} for
 * such a message instead of throwing: a unary or server-streaming call then ends at once; a
 * client-streaming one passes the {@code null} on, for the service to end the stream after the
 * acks it owes ({@link TelemetryServiceImpl}).
 */
final class MalformedRequests {

  private MalformedRequests() {}

  /** {@code messageType} is the full protobuf name, e.g. {@code twinfleet.v1.ReadingBatch}. */
  static String description(String messageType) {
    return "the request is not a valid " + messageType + ": malformed protobuf, or a string field that is not UTF-8";
  }

  /** {@code service} with every request marshaller made lenient and null requests refused as above. */
  static ServerServiceDefinition guarded(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName()).setSchemaDescriptor(original.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      ServerMethodDefinition<?, ?> guarded = guarded(m);
      descriptor.addMethod(guarded.getMethodDescriptor());
      methods.add(guarded);
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(b::addMethod);
    return b.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> guarded(ServerMethodDefinition<Q, R> m) {
    MethodDescriptor<Q, R> md = m.getMethodDescriptor();
    Marshaller<Q> strict = md.getRequestMarshaller();
    Marshaller<Q> lenient = new Marshaller<>() {
      @Override
      public InputStream stream(Q value) {
        return strict.stream(value);
      }

      @Override
      public Q parse(InputStream stream) {
        try {
          return strict.parse(stream);
        } catch (RuntimeException malformed) {
          return null;
        }
      }
    };
    MethodDescriptor<Q, R> lenientMd = md.toBuilder(lenient, md.getResponseMarshaller()).build();
    String type = strict instanceof MethodDescriptor.PrototypeMarshaller<Q> p && p.getMessagePrototype() instanceof com.google.protobuf.Message proto
        ? proto.getDescriptorForType().getFullName()
        : md.getFullMethodName() + " request";
    ServerCallHandler<Q, R> handler = m.getServerCallHandler();
    ServerCallHandler<Q, R> guardedHandler = md.getType().clientSendsOneMessage()
        ? (call, headers) -> new SimpleForwardingServerCallListener<>(handler.startCall(call, headers)) {
            private boolean refused;

            @Override
            public void onMessage(Q message) {
              if (refused) {
                return;
              }
              if (message == null) {
                refused = true;
                call.close(Status.INVALID_ARGUMENT.withDescription(description(type)), new Metadata());
                return;
              }
              super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
              if (!refused) {
                super.onHalfClose();
              }
            }
          }
        : handler;
    return ServerMethodDefinition.create(lenientMd, guardedHandler);
  }
}
