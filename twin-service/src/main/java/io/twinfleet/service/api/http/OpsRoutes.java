package io.twinfleet.service.api.http;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.service.ServiceMetrics;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
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
 * {@code POST /api/<package.Service>/<Method>}, any unary method of the gRPC API in JSON
 * ({@link JsonGateway}). The API answers with the caller's rights: its {@code Authorization} header
 * goes with every call it makes. A POST must say {@code Content-Type: application/json}, which a
 * page of another site cannot send here without the browser asking first (and this server never
 * allows it), so such a page cannot act with a browser's access to this port.
 */
public final class OpsRoutes extends AllDirectives implements ManagementRouteProvider {

  private final ActorSystem<?> system;
  private final Executor blocking;

  public OpsRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
    this.blocking = this.system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    JsonGateway gateway = JsonGateway.get(system);
    return concat(
        path("metrics", () -> get(() -> complete(HttpResponse.create()
            .withEntity(ContentTypes.TEXT_PLAIN_UTF8, ServiceMetrics.get(system).scrape())))),
        pathSingleSlash(() -> get(() -> getFromResource("dashboard/index.html"))),
        path("app.js", () -> get(() -> getFromResource("dashboard/app.js"))),
        path("app.css", () -> get(() -> getFromResource("dashboard/app.css"))),
        pathPrefix("api", () -> respondWithHeader(CacheControl.create(CacheDirectives.NO_STORE), () ->
            optionalHeaderValueByName("Authorization", authorization -> concat(
                path("overview", () -> get(() -> completeWithFuture(answer(() -> gateway.channel(authorization)
                    .map(channel -> new JsonGateway.Answer(200, FleetOverview.fetch(channel).json()))
                    .orElseGet(() -> JsonGateway.error(Status.UNAVAILABLE.withDescription("the service is starting; ask again in a moment"))))))),
                path(PathMatchers.segment().slash(PathMatchers.segment()), (service, method) -> post(() ->
                    extractRequestEntity(entity -> entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)
                        ? entity(Unmarshaller.entityToString(), body ->
                            completeWithFuture(answer(() -> gateway.call(service + "/" + method, body, authorization))))
                        : completeWithFuture(CompletableFuture.completedFuture(response(new JsonGateway.Answer(415,
                            JsonGateway.error(Status.INVALID_ARGUMENT.withDescription("send the request as Content-Type: application/json")).json())))))))))))
    );
  }

  /** Runs a blocking answer off the HTTP threads; a failed gRPC call becomes its status. */
  private CompletionStage<HttpResponse> answer(Supplier<JsonGateway.Answer> call) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return response(call.get());
      } catch (StatusRuntimeException e) {
        return response(JsonGateway.error(e.getStatus()));
      }
    }, blocking);
  }

  private static HttpResponse response(JsonGateway.Answer answer) {
    return HttpResponse.create().withStatus(answer.httpStatus()).withEntity(ContentTypes.APPLICATION_JSON, answer.json());
  }
}
