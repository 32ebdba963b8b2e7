package io.twinfleet.service.api.http;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import io.twinfleet.service.security.AuthInterceptor;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The gRPC API's methods that the dashboard uses, in JSON: a request's JSON (proto3 JSON mapping)
 * becomes the request message, which goes to the same services through the in-process channel
 * with the caller's {@code authorization} header, so the same checks, validation and read models
 * answer it; the answer comes back as JSON with the .proto field names. Only the reads the
 * dashboard shows and {@code AcknowledgeAlert} are here: every other write stays on the gRPC port.
 * Every call has a deadline shorter than the HTTP server's request timeout, so an answer always
 * says what happened. Until the gRPC server is up ({@link #serve}) calls are UNAVAILABLE.
 */
public final class JsonGateway implements Extension {

  /** A call's answer: an HTTP status and a JSON body (the response message, or the error's code and message). */
  public record Answer(int httpStatus, String json) {}

  /** Below Pekko HTTP's request timeout (20 s), so that the caller hears how a call ended. */
  static final Duration DEADLINE = Duration.ofSeconds(15);
  static final String STARTING = "the service is starting; ask again in a moment";
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private static final List<MethodDescriptor<?, ?>> DASHBOARD_METHODS = List.of(
      QualityServiceGrpc.getGetFleetQualityMethod(),
      QualityServiceGrpc.getGetQualityBreakdownMethod(),
      QualityServiceGrpc.getListAlertsMethod(),
      QualityServiceGrpc.getAcknowledgeAlertMethod(),
      JourneyServiceGrpc.getGetStageFunnelMethod(),
      JourneyServiceGrpc.getGetDeviceJourneyMethod(),
      JourneyServiceGrpc.getListDevicesByStageMethod(),
      JourneyServiceGrpc.getListAtRiskMethod(),
      SiteServiceGrpc.getListSitesMethod(),
      SiteServiceGrpc.getGetSiteMethod(),
      SiteServiceGrpc.getGetSiteSlaMethod());

  private static final ExtensionId<JsonGateway> ID = new ExtensionId<>() {
    @Override
    public JsonGateway createExtension(ActorSystem<?> system) {
      return new JsonGateway();
    }
  };

  private final Map<String, MethodDescriptor<?, ?>> methods = new LinkedHashMap<>();
  private volatile Channel channel;

  private JsonGateway() {
    DASHBOARD_METHODS.forEach(m -> methods.put(m.getFullMethodName(), m));
  }

  public static JsonGateway get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Calls go to {@code channel} from now on. */
  public void serve(Channel channel) {
    this.channel = channel;
  }

  /** The channel to the services with {@code authorization} (a header's value) on every call; empty while the server starts. */
  Optional<Channel> channel(Optional<String> authorization) {
    Channel c = channel;
    if (c == null || authorization.isEmpty()) {
      return Optional.ofNullable(c);
    }
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, authorization.get());
    return Optional.of(ClientInterceptors.intercept(c, MetadataUtils.newAttachHeadersInterceptor(headers)));
  }

  /** Calls {@code fullMethodName} with the request in {@code json}. */
  CompletionStage<Answer> call(String fullMethodName, String json, Optional<String> authorization) {
    MethodDescriptor<?, ?> method = methods.get(fullMethodName);
    if (method == null) {
      return CompletableFuture.completedFuture(error(Status.UNIMPLEMENTED.withDescription(fullMethodName
          + " is not on the dashboard's API (" + String.join(", ", methods.keySet()) + "); every method is on the gRPC port")));
    }
    return channel(authorization)
        .map(c -> call(c, method, json))
        .orElseGet(() -> CompletableFuture.completedFuture(error(Status.UNAVAILABLE.withDescription(STARTING))));
  }

  /** A deadline for one answer made of several calls: all of them together within {@link #DEADLINE}. */
  static Deadline deadline() {
    return Deadline.after(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  @SuppressWarnings("unchecked")
  private static <Q extends Message, R extends Message> CompletionStage<Answer> call(Channel channel, MethodDescriptor<?, ?> untyped, String json) {
    MethodDescriptor<Q, R> method = (MethodDescriptor<Q, R>) untyped;
    Q prototype = (Q) ((MethodDescriptor.PrototypeMarshaller<Q>) method.getRequestMarshaller()).getMessagePrototype();
    Message.Builder request = prototype.newBuilderForType();
    try {
      PARSER.merge(json.isBlank() ? "{}" : json, request);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return CompletableFuture.completedFuture(error(Status.INVALID_ARGUMENT.withDescription("the request is not a "
          + prototype.getDescriptorForType().getFullName() + " in JSON: " + e.getMessage())));
    }
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    Futures.addCallback(ClientCalls.futureUnaryCall(channel.newCall(method, CallOptions.DEFAULT.withDeadline(deadline())), (Q) request.build()),
        new FutureCallback<R>() {
          @Override
          public void onSuccess(R response) {
            try {
              answer.complete(new Answer(200, PRINTER.print(response)));
            } catch (InvalidProtocolBufferException e) {
              answer.complete(error(Status.INTERNAL.withDescription("the answer could not be written as JSON: " + e.getMessage())));
            }
          }

          @Override
          public void onFailure(Throwable t) {
            answer.complete(error(Status.fromThrowable(t)));
          }
        }, MoreExecutors.directExecutor());
    return answer;
  }

  /** A status as an HTTP status and {@code {"code": ..., "message": ...}}. */
  public static Answer error(Status status) {
    return error(httpStatus(status.getCode()), status);
  }

  static Answer error(int httpStatus, Status status) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("code", status.getCode().name());
    body.put("message", status.getDescription() == null ? "" : status.getDescription());
    return new Answer(httpStatus, Json.write(body));
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
