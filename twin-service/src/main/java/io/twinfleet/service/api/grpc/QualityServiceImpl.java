package io.twinfleet.service.api.grpc;

import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.FleetQuality;
import io.twinfleet.protocol.v1.GetFleetQualityRequest;
import io.twinfleet.protocol.v1.GetQualityBreakdownRequest;
import io.twinfleet.protocol.v1.QualityBreakdown;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.QualityShare;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.quality.QualityDimension;
import io.twinfleet.service.quality.QualityQueries;
import java.time.Duration;

/** QualityService: validates the window and dimension, and answers from the quality read models. */
public final class QualityServiceImpl extends QualityServiceGrpc.QualityServiceImplBase {

  static final Duration DEFAULT_WINDOW = Duration.ofHours(24);
  static final Duration MAX_WINDOW = Duration.ofDays(400);

  private final ServiceClock clock;
  private final QualityQueries queries;

  public QualityServiceImpl(ServiceClock clock, QualityQueries queries) {
    this.clock = clock;
    this.queries = queries;
  }

  @Override
  public void getFleetQuality(GetFleetQualityRequest req, StreamObserver<FleetQuality> out) {
    try {
      Duration window = window(req.hasWindow(), req.getWindow());
      Answers.answer(queries.fleet(window, clock.instant()), out, f -> FleetQuality.newBuilder()
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
