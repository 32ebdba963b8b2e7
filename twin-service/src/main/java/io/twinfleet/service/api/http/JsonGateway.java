package io.twinfleet.service.api.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The gRPC API's unary methods in JSON, for the dashboard: a request's JSON (proto3 JSON mapping)
 * becomes the request message, which goes to the same services through the in-process channel
 * with the caller's {@code authorization} header, so the same checks, validation and read models
 * answer it; the answer comes back as JSON with the .proto field names. Answers are blocking calls:
 * callers run them off the HTTP threads. Until the gRPC server is up ({@link #serve}) every call is
 * UNAVAILABLE.
 */
public final class JsonGateway implements Extension {

  /** A call's answer: an HTTP status and a JSON body (the response message, or the error's code and message). */
  public record Answer(int httpStatus, String json) {}

  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private static final ExtensionId<JsonGateway> ID = new ExtensionId<>() {
    @Override
    public JsonGateway createExtension(ActorSystem<?> system) {
      return new JsonGateway();
    }
  };

  private final Map<String, MethodDescriptor<?, ?>> methods = new HashMap<>();
  private volatile Channel channel;

  private JsonGateway() {
    for (ServiceDescriptor service : new ServiceDescriptor[] {DeviceServiceGrpc.getServiceDescriptor(), TelemetryServiceGrpc.getServiceDescriptor(),
        SiteServiceGrpc.getServiceDescriptor(), JourneyServiceGrpc.getServiceDescriptor(), QualityServiceGrpc.getServiceDescriptor()}) {
      for (MethodDescriptor<?, ?> m : service.getMethods()) {
        if (m.getType() == MethodDescriptor.MethodType.UNARY) {
          methods.put(m.getFullMethodName(), m);
        }
      }
    }
  }

  public static JsonGateway get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Calls go to {@code channel} from now on. */
  public void serve(Channel channel) {
    this.channel = channel;
  }

  public boolean knows(String fullMethodName) {
    return methods.containsKey(fullMethodName);
  }

  /** The channel to the services with {@code authorization} (a header's value) on every call; empty while the server starts. */
  public Optional<Channel> channel(Optional<String> authorization) {
    Channel c = channel;
    if (c == null) {
      return Optional.empty();
    }
    if (authorization.isEmpty()) {
      return Optional.of(c);
    }
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, authorization.get());
    return Optional.of(ClientInterceptors.intercept(c, MetadataUtils.newAttachHeadersInterceptor(headers)));
  }

  /** Calls {@code fullMethodName} (one {@link #knows}) with the request in {@code json}. Blocks. */
  public Answer call(String fullMethodName, String json, Optional<String> authorization) {
    MethodDescriptor<?, ?> method = methods.get(fullMethodName);
    if (method == null) {
      return error(Status.UNIMPLEMENTED.withDescription("no unary method " + fullMethodName));
    }
    Optional<Channel> to = channel(authorization);
    if (to.isEmpty()) {
      return error(Status.UNAVAILABLE.withDescription("the service is starting; ask again in a moment"));
    }
    return call(to.get(), method, json);
  }

  @SuppressWarnings("unchecked")
  private static <Q extends Message, R extends Message> Answer call(Channel channel, MethodDescriptor<?, ?> untyped, String json) {
    MethodDescriptor<Q, R> method = (MethodDescriptor<Q, R>) untyped;
    Q prototype = (Q) ((MethodDescriptor.PrototypeMarshaller<Q>) method.getRequestMarshaller()).getMessagePrototype();
    Message.Builder request = prototype.newBuilderForType();
    try {
      PARSER.merge(json.isBlank() ? "{}" : json, request);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return error(Status.INVALID_ARGUMENT.withDescription("the request is not a " + prototype.getDescriptorForType().getFullName()
          + " in JSON: " + e.getMessage()));
    }
    try {
      R response = ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS),
          (Q) request.build());
      return new Answer(200, PRINTER.print(response));
    } catch (StatusRuntimeException e) {
      return error(e.getStatus());
    } catch (InvalidProtocolBufferException e) {
      return error(Status.INTERNAL.withDescription("the answer could not be written as JSON: " + e.getMessage()));
    }
  }

  /** A status as an HTTP status and {@code {"code": ..., "message": ...}}. */
  public static Answer error(Status status) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("code", status.getCode().name());
    body.put("message", status.getDescription() == null ? "" : status.getDescription());
    return new Answer(httpStatus(status.getCode()), Json.write(body));
  }

  static int httpStatus(Status.Code code) {
    return switch (code) {
      case OK -> 200;
      case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND, UNIMPLEMENTED -> 404;
      case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> 409;
      case RESOURCE_EXHAUSTED -> 429;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      default -> 500;
    };
  }
}
