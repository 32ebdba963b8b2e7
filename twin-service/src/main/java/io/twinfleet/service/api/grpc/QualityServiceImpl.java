package io.twinfleet.service.api.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.AcknowledgeAlertRequest;
import io.twinfleet.protocol.v1.AlertChange;
import io.twinfleet.protocol.v1.FleetQuality;
import io.twinfleet.protocol.v1.HourlyUptime;
import io.twinfleet.protocol.v1.GetFleetQualityRequest;
import io.twinfleet.protocol.v1.GetQualityBreakdownRequest;
import io.twinfleet.protocol.v1.ListAlertsRequest;
import io.twinfleet.protocol.v1.ListAlertsResponse;
import io.twinfleet.protocol.v1.ResolveAlertRequest;
import io.twinfleet.protocol.v1.WatchAlertsRequest;
import io.twinfleet.protocol.v1.QualityBreakdown;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.QualityShare;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.alert.AlertQueries;
import io.twinfleet.service.alert.AlertRows;
import io.twinfleet.service.alert.AlertWatch;
import io.twinfleet.service.device.AlertKind;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.AlertAnswer;
import io.twinfleet.service.device.Validation;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.quality.QualityDimension;
import io.twinfleet.service.quality.QualityQueries;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * QualityService: fleet quality from the quality read models; alerts listed from the alert read
 * models and changed by their devices' twins, which store the change before it is answered (the
 * alert's row is written then too, so a list asked after the answer shows it).
 */
public final class QualityServiceImpl extends QualityServiceGrpc.QualityServiceImplBase {

  static final Duration DEFAULT_WINDOW = Duration.ofHours(24);
  static final Duration MAX_WINDOW = Duration.ofDays(400);

  static final int MAX_NOTE = 500;
  private static final Logger log = LoggerFactory.getLogger(QualityServiceImpl.class);

  private final ActorSystem<?> system;
  private final ServiceClock clock;
  private final QualityQueries queries;
  private final AlertQueries alerts;
  private final AlertRows alertRows;
  private final AlertWatch alertWatch;
  private final Twins twins;

  public QualityServiceImpl(ActorSystem<?> system, GrpcSettings settings, ServiceClock clock, QualityQueries queries, AlertQueries alerts,
      AlertRows alertRows, int projectionTags) {
    this.system = system;
    this.clock = clock;
    this.queries = queries;
    this.alerts = alerts;
    this.alertRows = alertRows;
    this.alertWatch = new AlertWatch(system, projectionTags);
    this.twins = new Twins(system, settings);
  }

  @Override
  public void getFleetQuality(GetFleetQualityRequest req, StreamObserver<FleetQuality> out) {
    try {
      Duration window = window(req.hasWindow(), req.getWindow());
      Answers.answer(queries.fleet(window, clock.instant(), req.getHourly()), out, f -> FleetQuality.newBuilder()
          .addAllHours(f.hours().stream().map(h -> HourlyUptime.newBuilder()
              .setHour(ProtoMapping.timestamp(h.hour()))
              .setUptime(h.figures().uptime())
              .setLife(ProtoMapping.duration(Duration.ofMillis(h.figures().lifeMillis())))
              .setOffline(ProtoMapping.duration(Duration.ofMillis(h.figures().offlineMillis())))
              .build()).toList())
          .setWindowStart(ProtoMapping.timestamp(f.from()))
          .setAsOf(ProtoMapping.timestamp(f.to()))
          .setUptime(f.figures().uptime())
          .setLife(ProtoMapping.duration(Duration.ofMillis(f.figures().lifeMillis())))
          .setOffline(ProtoMapping.duration(Duration.ofMillis(f.figures().offlineMillis())))
          .setDevicesActive(f.active())
          .setDevicesOnline(f.online())
          .setDevicesOffline(f.active() - f.online())
          .setDevicesWorking(f.working())
          .build());
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void getQualityBreakdown(GetQualityBreakdownRequest req, StreamObserver<QualityBreakdown> out) {
    try {
      QualityDimension dimension = switch (req.getDimension()) {
        case FIRMWARE -> QualityDimension.FIRMWARE;
        case MODEL -> QualityDimension.MODEL;
        case FAULT -> QualityDimension.FAULT;
        case STAGE -> QualityDimension.STAGE;
        default -> throw new InvalidField("dimension", "must be FIRMWARE, MODEL, FAULT or STAGE");
      };
      Duration window = window(req.hasWindow(), req.getWindow());
      Answers.answer(queries.breakdown(dimension, window, clock.instant()), out, b -> {
        QualityBreakdown.Builder r = QualityBreakdown.newBuilder()
            .setDimension(req.getDimension())
            .setWindowStart(ProtoMapping.timestamp(b.from()))
            .setAsOf(ProtoMapping.timestamp(b.to()))
            .setTotalDowntime(ProtoMapping.duration(Duration.ofMillis(b.totalOfflineMillis())));
        for (QualityQueries.Share s : b.shares()) {
          r.addValues(QualityShare.newBuilder()
              .setValue(s.value())
              .setDevices(s.devices())
              .setDowntimeHours(s.figures().offlineMillis() / 3_600_000.0)
              .setShare(s.share())
              .setUptime(s.figures().uptime())
              .setLife(ProtoMapping.duration(Duration.ofMillis(s.figures().lifeMillis()))));
        }
        return r.build();
      });
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void listAlerts(ListAlertsRequest req, StreamObserver<ListAlertsResponse> out) {
    try {
      AlertQueries.Filter filter = new AlertQueries.Filter(
          AlertMapping.kind("kind", req.getKind(), true),
          AlertMapping.state("state", req.getState()),
          req.getSiteId().isEmpty() ? null : Validation.id("site_id", req.getSiteId()),
          req.getStage() == io.twinfleet.protocol.v1.Stage.STAGE_UNSPECIFIED ? null : ProtoMapping.stage("stage", req.getStage(), true));
      int pageSize = Paging.pageSize("page_size", req.getPageSize());
      Answers.answer(alerts.list(filter, pageSize, req.getPageToken()), out, page -> {
        ListAlertsResponse.Builder b = ListAlertsResponse.newBuilder();
        page.alerts().forEach(row -> b.addAlerts(AlertMapping.toProto(row)));
        if (page.nextToken() != null) {
          b.setNextPageToken(page.nextToken());
        }
        return b.build();
      });
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void acknowledgeAlert(AcknowledgeAlertRequest req, StreamObserver<io.twinfleet.protocol.v1.Alert> out) {
    changeAlert(req.getAlertId(), req.getNote(), false, out);
  }

  @Override
  public void resolveAlert(ResolveAlertRequest req, StreamObserver<io.twinfleet.protocol.v1.Alert> out) {
    changeAlert(req.getAlertId(), req.getNote(), true, out);
  }

  /** Asks the alert's twin to acknowledge or resolve it, writes its row if that changed it, then answers. */
  private void changeAlert(String alertId, String note, boolean resolve, StreamObserver<io.twinfleet.protocol.v1.Alert> out) {
    try {
      Matcher id = AlertQueries.ALERT_ID.matcher(alertId);
      if (!id.matches()) {
        String shown = alertId.length() > 80 ? alertId.substring(0, 80) + "..." : alertId;
        throw new InvalidField("alert_id", alertId.isEmpty() ? "required" : "'" + shown + "' is not <device_id>/<number>, e.g. 'lock-17/3'");
      }
      String deviceId = id.group(1);
      int number = Integer.parseInt(id.group(2));
      String checkedNote = note.isEmpty() ? null : Validation.note("note", note, MAX_NOTE);
      twins.askToStore(deviceId, replyTo -> resolve
              ? new DeviceTwin.ResolveAlert(number, checkedNote, replyTo)
              : new DeviceTwin.AcknowledgeAlert(number, checkedNote, replyTo))
          .thenCompose(reply -> reply instanceof AlertAnswer a && a.stored()
              ? alertRows.changedByHand(deviceId, a.alert(), a.device(), a.seqNr()).handle((done, error) -> {
                  if (error != null) {
                    log.warn("Alert {} changed; its row is left to the projection: {}", alertId, error.toString());
                  }
                  return reply;
                })
              : CompletableFuture.completedFuture(reply))
          .whenComplete((reply, error) ->
              Twins.answer(out, reply, error, AlertAnswer.class, a -> AlertMapping.toProto(deviceId, a.alert(), a.device())));
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void watchAlerts(WatchAlertsRequest req, StreamObserver<AlertChange> out) {
    try {
      Set<AlertKind> kinds = EnumSet.noneOf(AlertKind.class);
      for (int i = 0; i < req.getKindsCount(); i++) {
        kinds.add(AlertMapping.kind("kinds[" + i + "]", req.getKinds(i), false));
      }
      var changes = alertWatch.changes(kinds, req.getResumeToken(), req.getFromBeginning());
      BackpressuredStream.run(system, changes, (ServerCallStreamObserver<AlertChange>) out, AlertMapping::toProto);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  private static Duration window(boolean set, com.google.protobuf.Duration d) {
    if (!set) {
      return DEFAULT_WINDOW;
    }
    Duration w = ProtoMapping.duration("window", d);
    if (w.compareTo(Duration.ofHours(1)) < 0 || w.compareTo(MAX_WINDOW) > 0) {
      throw new InvalidField("window", w + " is outside 1 hour to " + MAX_WINDOW.toDays() + " days");
    }
    return w;
  }
}
