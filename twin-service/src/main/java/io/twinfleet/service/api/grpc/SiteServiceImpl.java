package io.twinfleet.service.api.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.SitesRepository;
import io.twinfleet.protocol.v1.DeclareMaintenanceRequest;
import io.twinfleet.protocol.v1.GetSiteRequest;
import io.twinfleet.protocol.v1.GetSiteSlaRequest;
import io.twinfleet.protocol.v1.ListSitesRequest;
import io.twinfleet.protocol.v1.ListSitesResponse;
import io.twinfleet.protocol.v1.SetSiteSlaTargetRequest;
import io.twinfleet.protocol.v1.Site;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import io.twinfleet.protocol.v1.SiteSla;
import io.twinfleet.protocol.v1.WatchSiteRequest;
import io.twinfleet.service.Asks;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.device.ErrorCode;
import io.twinfleet.service.device.Validation;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.security.Principal;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.site.SiteQueries;
import io.twinfleet.service.site.SiteState;
import io.twinfleet.service.site.SiteTwin;
import io.twinfleet.service.site.SiteView;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * SiteService: validates each request, asks the site, and maps the answer. Declarations and targets
 * are stored by the site and then written to the site list's read model before they are answered.
 */
public final class SiteServiceImpl extends SiteServiceGrpc.SiteServiceImplBase {

  /** The longest maintenance window one call may declare. */
  static final Duration MAX_WINDOW = Duration.ofDays(31);
  static final int MAX_REASON = 500;
  /** Months back whose SLA can be asked (a site keeps its history 400 days). */
  static final int MONTHS_KEPT = 12;
  /** How far ahead a maintenance window may be declared. */
  static final Duration MAX_AHEAD = Duration.ofDays(366);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Asks asks;
  private final ServiceClock clock;
  private final SitesRepository repository;
  private final SiteQueries queries;
  private final CustomerDevicesRepository customerDevices;

  public SiteServiceImpl(ActorSystem<?> system, GrpcSettings settings, ServiceClock clock, SitesRepository repository,
      CustomerDevicesRepository customerDevices) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.asks = new Asks(system, settings.askTimeout());
    this.clock = clock;
    this.repository = repository;
    this.queries = new SiteQueries(repository);
    this.customerDevices = customerDevices;
  }

  @Override
  public void getSite(GetSiteRequest req, StreamObserver<Site> out) {
    try {
      String id = Validation.id("site_id", req.getSiteId());
      Answers.answer(seenBy(Principal.current(), id).thenCompose(visible -> view(id)), out, SiteMapping::toProto);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void getSiteSla(GetSiteSlaRequest req, StreamObserver<SiteSla> out) {
    try {
      String id = Validation.id("site_id", req.getSiteId());
      YearMonth month = month(req.getMonth(), YearMonth.from(clock.instant().atZone(ZoneOffset.UTC)));
      CompletionStage<SiteSla> sla = seenBy(Principal.current(), id)
          .thenCompose(visible -> ask(id, replyTo -> new SiteTwin.GetSla(month, replyTo)))
          .thenApply(reply -> SiteMapping.toProto(id, ((SiteTwin.SlaAnswer) accepted(reply)).sla(), true));
      Answers.answer(sla, out, Function.identity());
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void declareMaintenance(DeclareMaintenanceRequest req, StreamObserver<Site> out) {
    try {
      String id = Validation.id("site_id", req.getSiteId());
      String windowId = Validation.id("window_id", req.getWindowId());
      if (!req.hasStart() || !req.hasEnd()) {
        throw new InvalidField(req.hasStart() ? "end" : "start", "required");
      }
      Instant start = ProtoMapping.instant("start", req.getStart());
      Instant end = ProtoMapping.instant("end", req.getEnd());
      if (!end.isAfter(start)) {
        throw new InvalidField("end", "must be after start");
      }
      if (Duration.between(start, end).compareTo(MAX_WINDOW) > 0) {
        throw new InvalidField("end", "the window is longer than " + MAX_WINDOW.toDays() + " days; declare several");
      }
      Instant now = clock.instant();
      if (end.isBefore(now.minus(SiteState.KEPT))) {
        throw new InvalidField("end", end + " is more than " + SiteState.KEPT.toDays() + " days ago; sites keep no maintenance that old");
      }
      if (start.isAfter(now.plus(MAX_AHEAD))) {
        throw new InvalidField("start", start + " is more than " + MAX_AHEAD.toDays() + " days ahead of the service clock (" + now + ")");
      }
      String reason = Validation.note("reason", req.getReason(), MAX_REASON);
      Answers.answer(stored(id, replyTo -> new SiteTwin.DeclareMaintenance(windowId, start, end, reason, replyTo)), out,
          SiteMapping::toProto);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void setSiteSlaTarget(SetSiteSlaTargetRequest req, StreamObserver<Site> out) {
    try {
      String id = Validation.id("site_id", req.getSiteId());
      double target = req.getTarget();
      if (!(target > 0 && target <= 1)) {
        throw new InvalidField("target", target + " must be above 0 and at most 1, e.g. 0.995");
      }
      Answers.answer(stored(id, replyTo -> new SiteTwin.SetTarget(target, replyTo)), out, SiteMapping::toProto);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void listSites(ListSitesRequest req, StreamObserver<ListSitesResponse> out) {
    try {
      int pageSize = Paging.pageSize("page_size", req.getPageSize());
      SiteQueries.Filter filter = new SiteQueries.Filter(req.getUnavailableNow(), req.getBelowSla());
      CompletionStage<ListSitesResponse> page = queries.list(filter, clock.instant(), pageSize, req.getPageToken())
          .thenCompose(candidates -> {
            List<CompletableFuture<SiteView>> views = new ArrayList<>(candidates.siteIds().size());
            for (String id : candidates.siteIds()) {
              views.add(view(id).toCompletableFuture());
            }
            return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenApply(done -> {
              ListSitesResponse.Builder b = ListSitesResponse.newBuilder();
              for (CompletableFuture<SiteView> v : views) {
                if (matches(filter, v.join())) {
                  b.addSites(SiteMapping.toProto(v.join()));
                }
              }
              if (candidates.nextToken() != null) {
                b.setNextPageToken(candidates.nextToken());
              }
              return b.build();
            });
          });
      Answers.answer(page, out, Function.identity());
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void watchSite(WatchSiteRequest req, StreamObserver<Site> out) {
    String id;
    try {
      id = Validation.id("site_id", req.getSiteId());
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
      return;
    }
    ServerCallStreamObserver<Site> call = (ServerCallStreamObserver<Site>) out;
    EntityWatcher.Pending<Site> watch = EntityWatcher.pending(call);
    // Ask first, so an unknown site is NOT_FOUND rather than a stream that never says anything.
    seenBy(Principal.current(), id).thenCompose(visible -> view(id)).whenComplete((view, error) -> Answers.guarded(out, () -> {
      if (error != null) {
        out.onError(GrpcErrors.from(error));
      } else if (!call.isCancelled()) {
        EntityRef<SiteTwin.Command> site = sharding.entityRefFor(SiteTwin.ENTITY_KEY, id);
        watch.start(system, id, SiteView.class, w -> site.tell(new SiteTwin.Watch(w.narrow())),
            w -> site.tell(new SiteTwin.Unwatch(w.narrow())), SiteMapping::toProto);
      }
    }));
  }

  /** Whether the site's live view matches the filter (the read model only said it may). */
  private static boolean matches(SiteQueries.Filter filter, SiteView v) {
    boolean down = v.counts().inService() && !v.counts().available();
    return (!filter.unavailableNow() || down) && (!filter.belowSla() || v.thisMonth().measured() && !v.thisMonth().met());
  }

  private static YearMonth month(String text, YearMonth current) {
    if (text.isEmpty()) {
      return current;
    }
    YearMonth month;
    try {
      month = YearMonth.parse(text);
    } catch (DateTimeParseException e) {
      throw new InvalidField("month", "'" + Validation.abbreviate(text) + "' is not a month as YYYY-MM");
    }
    if (month.isAfter(current)) {
      throw new InvalidField("month", month + " has not begun (the service clock is in " + current + ")");
    }
    if (month.isBefore(current.minusMonths(MONTHS_KEPT))) {
      throw new InvalidField("month", "sites keep their history for the current month and the " + MONTHS_KEPT + " before it, from "
          + current.minusMonths(MONTHS_KEPT));
    }
    return month;
  }

  /**
   * Completes when {@code caller} may see the site: always but for an app, which sees the sites its
   * customer has devices at (from the customer's device list, so a site appears to the app once its
   * claim reached that list). Another customer's site fails exactly as a site that does not exist.
   */
  private CompletionStage<Void> seenBy(Principal caller, String siteId) {
    if (caller.role() != Role.APP) {
      return CompletableFuture.completedFuture(null);
    }
    return customerDevices.hasSite(caller.customerId(), siteId).thenApply(has -> {
      if (!has) {
        throw GrpcErrors.of(ErrorCode.NOT_FOUND, SiteTwin.noSite(siteId));
      }
      return null;
    });
  }

  private CompletionStage<SiteView> view(String siteId) {
    return ask(siteId, SiteTwin.Get::new).thenApply(reply -> summary(accepted(reply)).view());
  }

  /** Asks the site to change, then writes its summary to the site list before answering. */
  private CompletionStage<SiteView> stored(String siteId,
      Function<ActorRef<SiteTwin.Reply>, SiteTwin.Command> command) {
    return ask(siteId, command).thenCompose(reply -> {
      SiteTwin.Summary s = summary(accepted(reply));
      return repository.store(s.view().row(), s.seqNr()).thenApply(done -> s.view());
    });
  }

  private CompletionStage<SiteTwin.Reply> ask(String siteId,
      Function<ActorRef<SiteTwin.Reply>, SiteTwin.Command> command) {
    return asks.ask(SiteTwin.ENTITY_KEY, siteId, command);
  }

  /** The reply if the site accepted the request; its refusal as a gRPC status otherwise. */
  private static SiteTwin.Reply accepted(SiteTwin.Reply reply) {
    if (reply instanceof SiteTwin.Rejected r) {
      throw GrpcErrors.of(r.code(), r.message());
    }
    return reply;
  }

  private static SiteTwin.Summary summary(SiteTwin.Reply reply) {
    return (SiteTwin.Summary) reply;
  }
}
