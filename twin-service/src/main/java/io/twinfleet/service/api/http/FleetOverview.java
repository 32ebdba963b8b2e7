package io.twinfleet.service.api.http;

import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.twinfleet.protocol.v1.Alert;
import io.twinfleet.protocol.v1.AlertState;
import io.twinfleet.protocol.v1.FleetQuality;
import io.twinfleet.protocol.v1.GetFleetQualityRequest;
import io.twinfleet.protocol.v1.GetStageFunnelRequest;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.ListAlertsRequest;
import io.twinfleet.protocol.v1.ListAlertsResponse;
import io.twinfleet.protocol.v1.ListSitesRequest;
import io.twinfleet.protocol.v1.ListSitesResponse;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import io.twinfleet.protocol.v1.StageCount;
import io.twinfleet.protocol.v1.StageFunnel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The fleet at a glance: the figures at the top of the dashboard and in the demo's live summary,
 * fetched by one piece of code from the gRPC API so that the two cannot disagree. Fleet uptime over
 * the last 24 hours and the devices now (GetFleetQuality), the claimed devices per stage
 * (GetStageFunnel), the sites not available now and below their SLA this month (ListSites), and the
 * open alerts by kind (ListAlerts). Counts that need paging stop at {@value #COUNT_CAP}; a
 * {@code *More} flag says there are more.
 */
public record FleetOverview(
    String asOf,
    String uptimeWindow,
    double uptime,
    long devicesActive,
    long devicesOnline,
    long devicesOffline,
    long devicesWorking,
    long devicesClaimed,
    List<StageDevices> stages,
    long sitesUnavailable,
    boolean sitesUnavailableMore,
    long sitesBelowSla,
    boolean sitesBelowSlaMore,
    long alertsOpen,
    boolean alertsOpenMore,
    List<KindCount> alertsOpenByKind) {

  public record StageDevices(String stage, long devices) {}

  public record KindCount(String kind, long count) {}

  public static final Duration UPTIME_WINDOW = Duration.ofHours(24);
  static final int COUNT_CAP = 10_000;
  private static final int PAGE = 500;

  /**
   * Fetches the overview through {@code channel} (which carries the caller's token). Blocks, for at
   * most 15 s in all; throws the first call's failure.
   */
  public static FleetOverview fetch(Channel channel) {
    Deadline deadline = JsonGateway.deadline();
    QualityServiceGrpc.QualityServiceBlockingStub qualityService = QualityServiceGrpc.newBlockingStub(channel).withDeadline(deadline);
    FleetQuality quality = qualityService
        .getFleetQuality(GetFleetQualityRequest.newBuilder().setWindow(Durations.fromMillis(UPTIME_WINDOW.toMillis())).build());
    StageFunnel funnel = JourneyServiceGrpc.newBlockingStub(channel).withDeadline(deadline).getStageFunnel(GetStageFunnelRequest.getDefaultInstance());
    List<StageDevices> stages = new ArrayList<>();
    for (StageCount c : funnel.getStagesList()) {
      stages.add(new StageDevices(c.getStage().name(), c.getDevices()));
    }
    SiteServiceGrpc.SiteServiceBlockingStub siteService = SiteServiceGrpc.newBlockingStub(channel).withDeadline(deadline);
    Count unavailable = countSites(siteService, ListSitesRequest.newBuilder().setUnavailableNow(true));
    Count belowSla = countSites(siteService, ListSitesRequest.newBuilder().setBelowSla(true));
    Map<String, Long> byKind = new TreeMap<>();
    long open = 0;
    String token = "";
    do {
      ListAlertsResponse page = qualityService.listAlerts(ListAlertsRequest.newBuilder().setState(AlertState.ALERT_OPEN).setPageSize(PAGE).setPageToken(token).build());
      for (Alert a : page.getAlertsList()) {
        byKind.merge(a.getKind().name(), 1L, Long::sum);
      }
      open += page.getAlertsCount();
      token = page.getNextPageToken();
    } while (!token.isEmpty() && open < COUNT_CAP);
    List<KindCount> kinds = new ArrayList<>();
    byKind.forEach((k, n) -> kinds.add(new KindCount(k, n)));
    return new FleetOverview(Timestamps.toString(quality.getAsOf()), Durations.toString(Durations.fromMillis(UPTIME_WINDOW.toMillis())),
        quality.getUptime(), quality.getDevicesActive(), quality.getDevicesOnline(), quality.getDevicesOffline(), quality.getDevicesWorking(),
        funnel.getDevices(), stages, unavailable.count(), unavailable.more(), belowSla.count(), belowSla.more(), open, !token.isEmpty(), kinds);
  }

  /** How many a paged list holds, up to the cap, and whether there are more. */
  private record Count(long count, boolean more) {}

  private static Count countSites(SiteServiceGrpc.SiteServiceBlockingStub sites, ListSitesRequest.Builder filter) {
    long count = 0;
    String token = "";
    do {
      ListSitesResponse page = sites.listSites(filter.setPageSize(PAGE).setPageToken(token).build());
      count += page.getSitesCount();
      token = page.getNextPageToken();
    } while (!token.isEmpty() && count < COUNT_CAP);
    return new Count(count, !token.isEmpty());
  }

  /** The overview as the dashboard reads it from {@code /api/overview}. */
  public String json() {
    return Json.write(this);
  }
}
