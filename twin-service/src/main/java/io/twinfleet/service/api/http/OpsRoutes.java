package io.twinfleet.service.api.http;

import com.typesafe.config.Config;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.service.ServiceMetrics;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.CacheControl;
import org.apache.pekko.http.javadsl.model.headers.CacheDirectives;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * What the ops HTTP port serves besides Pekko Management's health checks: {@code /metrics} for
 * Prometheus; the dashboard at {@code /} (a page and its script and style, bundled in the jar); and
 * its data under {@code /api}: {@code GET /api/overview} ({@link FleetOverview}) and
 * {@code POST /api/<package.Service>/<Method>}, the gRPC methods of {@link JsonGateway} in JSON.
 * The API answers with the caller's rights: its {@code Authorization} header goes with every call
 * it makes. A POST must say {@code Content-Type: application/json}, which a page of another site
 * cannot send here without the browser asking first (and this server never allows it), so such a
 * page cannot act with a browser's access to this port. Everything under {@code /api}, refusals
 * included, answers JSON. While gRPC speaks TLS the API is refused (this port does not), unless
 * {@code twinfleet.http.api-without-tls} says otherwise.
 */
public final class OpsRoutes extends AllDirectives implements ManagementRouteProvider {

  /** Far above any request the dashboard sends. */
  private static final long MAX_REQUEST_BYTES = 64 * 1024;

  private final ActorSystem<?> system;
  private final Executor blocking;
  private final boolean apiRefused;

  public OpsRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
    this.blocking = this.system.dispatchers().lookup(DispatcherSelector.blocking());
    Config config = system.settings().config();
    this.apiRefused = !config.getString("twinfleet.security.tls-cert-file").isEmpty() && !config.getBoolean("twinfleet.http.api-without-tls");
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return concat(
        path("metrics", () -> get(() -> complete(HttpResponse.create()
            .withEntity(ContentTypes.TEXT_PLAIN_UTF8, ServiceMetrics.get(system).scrape())))),
        pathSingleSlash(() -> get(() -> getFromResource("dashboard/index.html"))),
        path("app.js", () -> get(() -> getFromResource("dashboard/app.js"))),
        path("app.css", () -> get(() -> getFromResource("dashboard/app.css"))),
        pathPrefix("api", () -> respondWithHeader(CacheControl.create(CacheDirectives.NO_STORE), this::api)));
  }

  private Route api() {
    if (apiRefused) {
      return complete(response(JsonGateway.error(403, Status.FAILED_PRECONDITION.withDescription("gRPC speaks TLS and this port does not,"
          + " so it takes no tokens; set twinfleet.http.api-without-tls (TWINFLEET_HTTP_API_WITHOUT_TLS) if it is reached over TLS"
          + " or a trusted network only"))));
    }
    JsonGateway gateway = JsonGateway.get(system);
    return optionalHeaderValueByName("Authorization", authorization -> concat(
        path("overview", () -> get(() -> completeWithFuture(overview(gateway, authorization)))),
        path(PathMatchers.segment().slash(PathMatchers.segment()), (service, method) -> post(() ->
            extractRequestEntity(entity -> call(gateway, service + "/" + method, entity, authorization)))),
        extractMethod(httpMethod -> extractUnmatchedPath(rest -> complete(response(JsonGateway.error(Status.UNIMPLEMENTED.withDescription(
            "no " + httpMethod.value() + " /api" + rest + ": the API is GET /api/overview and POST /api/<package.Service>/<Method>"))))))));
  }

  /** One gRPC method, if the request is JSON of a sensible size. */
  private Route call(JsonGateway gateway, String method, HttpEntity entity, Optional<String> authorization) {
    if (!entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
      return complete(response(JsonGateway.error(415, Status.INVALID_ARGUMENT.withDescription("send the request as Content-Type: application/json"))));
    }
    if (entity.getContentLengthOption().orElse(0L) > MAX_REQUEST_BYTES) {
      return complete(response(JsonGateway.error(413, Status.RESOURCE_EXHAUSTED.withDescription(
          "a request holds at most " + MAX_REQUEST_BYTES + " bytes of JSON"))));
    }
    return withSizeLimit(MAX_REQUEST_BYTES, () -> entity(Unmarshaller.entityToString(), body ->
        completeWithFuture(gateway.call(method, body, authorization).thenApply(OpsRoutes::response))));
  }

  /** The overview's calls block: they run off the HTTP threads, within the gateway's deadline. */
  private CompletionStage<HttpResponse> overview(JsonGateway gateway, Optional<String> authorization) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return response(gateway.channel(authorization)
            .map(channel -> new JsonGateway.Answer(200, FleetOverview.fetch(channel).json()))
            .orElseGet(() -> JsonGateway.error(Status.UNAVAILABLE.withDescription(JsonGateway.STARTING))));
      } catch (StatusRuntimeException e) {
        return response(JsonGateway.error(e.getStatus()));
      }
    }, blocking);
  }

  private static HttpResponse response(JsonGateway.Answer answer) {
    return HttpResponse.create().withStatus(answer.httpStatus()).withEntity(ContentTypes.APPLICATION_JSON, answer.json());
  }
}
