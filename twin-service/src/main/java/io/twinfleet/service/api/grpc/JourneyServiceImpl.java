package io.twinfleet.service.api.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.DeviceJourney;
import io.twinfleet.protocol.v1.GetDeviceJourneyRequest;
import io.twinfleet.protocol.v1.GetStageFunnelRequest;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.ListAtRiskRequest;
import io.twinfleet.protocol.v1.ListAtRiskResponse;
import io.twinfleet.protocol.v1.ListDevicesByStageRequest;
import io.twinfleet.protocol.v1.ListDevicesByStageResponse;
import io.twinfleet.protocol.v1.RecordTouchpointRequest;
import io.twinfleet.protocol.v1.StageChangeEvent;
import io.twinfleet.protocol.v1.StageFunnel;
import io.twinfleet.protocol.v1.Touchpoint;
import io.twinfleet.protocol.v1.WatchStageChangesRequest;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceTwin.Command;
import io.twinfleet.service.device.DeviceTwin.JourneyAnswer;
import io.twinfleet.service.device.DeviceTwin.Reply;
import io.twinfleet.service.device.DeviceTwin.TouchpointAnswer;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.Stage;
import io.twinfleet.service.device.TouchpointKind;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.device.Validation;
import io.twinfleet.service.journey.JourneyQueries.Filter;
import io.twinfleet.service.journey.JourneyQueries;
import io.twinfleet.service.journey.StageChangeWatch;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * JourneyService: a device's journey and its touchpoints, answered by the device's twin; stage
 * lists, funnels and the stage change stream, from the journey read models. Requests that fail
 * validation never reach a twin or Cassandra.
 */
public final class JourneyServiceImpl extends JourneyServiceGrpc.JourneyServiceImplBase {

  /** The longest note a touchpoint takes. */
  static final int MAX_NOTE = 2_000;

  private final ActorSystem<?> system;
  private final Twins twins;
  private final DeviceSettings deviceSettings;
  private final ServiceClock clock;
  private final JourneyQueries queries;
  private final StageChangeWatch stageChanges;

  public JourneyServiceImpl(ActorSystem<?> system, GrpcSettings settings, DeviceSettings deviceSettings, ServiceClock clock,
      JourneyQueries queries) {
    this.system = system;
    this.twins = new Twins(system, settings);
    this.deviceSettings = deviceSettings;
    this.clock = clock;
    this.queries = queries;
    this.stageChanges = new StageChangeWatch(system, deviceSettings.projectionTags());
  }

  @Override
  public void getDeviceJourney(GetDeviceJourneyRequest req, StreamObserver<DeviceJourney> out) {
    try {
      String id = Validation.id("device_id", req.getDeviceId());
      ask(id, DeviceTwin.GetJourney::new).whenComplete((reply, error) ->
          Twins.answer(out, reply, error, JourneyAnswer.class, a -> ProtoMapping.toProto(a.journey())));
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void recordTouchpoint(RecordTouchpointRequest req, StreamObserver<Touchpoint> out) {
    try {
      String id = Validation.id("device_id", req.getDeviceId());
      String touchpointId = req.getTouchpointId().isEmpty()
          ? "tp-" + UUID.randomUUID()
          : Validation.id("touchpoint_id", req.getTouchpointId());
      TouchpointKind kind = ProtoMapping.touchpointKind("kind", req.getKind());
      String note = Validation.note("note", req.getNote(), MAX_NOTE);
      Instant at = req.hasAt() ? Validation.notAhead("at", ProtoMapping.instant("at", req.getAt()), clock.instant(), deviceSettings) : null;
      twins.askToStore(id, replyTo -> new DeviceTwin.RecordTouchpoint(touchpointId, kind, note, at, replyTo)).whenComplete((reply, error) ->
          Twins.answer(out, reply, error, TouchpointAnswer.class, a -> ProtoMapping.toProto(a.touchpoint())));
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void listDevicesByStage(ListDevicesByStageRequest req, StreamObserver<ListDevicesByStageResponse> out) {
    try {
      Filter filter = filter(req.getStage(), req.getSiteId(), req.getCustomerId(), req.getModel());
      int pageSize = Paging.pageSize("page_size", req.getPageSize());
      Answers.answer(queries.list(filter, pageSize, req.getPageToken()), out, page -> {
        ListDevicesByStageResponse.Builder b = ListDevicesByStageResponse.newBuilder();
        page.rows().forEach(row -> b.addDevices(ProtoMapping.toProto(row)));
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
  public void getStageFunnel(GetStageFunnelRequest req, StreamObserver<StageFunnel> out) {
    try {
      Filter filter = filter(io.twinfleet.protocol.v1.Stage.STAGE_UNSPECIFIED, req.getSiteId(), req.getCustomerId(), req.getModel());
      Answers.answer(queries.funnel(filter), out, ProtoMapping::toProto);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void watchStageChanges(WatchStageChangesRequest req, StreamObserver<StageChangeEvent> out) {
    try {
      Set<Stage> stages = EnumSet.noneOf(Stage.class);
      for (int i = 0; i < req.getStagesCount(); i++) {
        stages.add(ProtoMapping.stage("stages[" + i + "]", req.getStages(i), false));
      }
      var changes = stageChanges.changes(stages, req.getResumeToken(), req.getFromBeginning());
      BackpressuredStream.run(system, changes, (ServerCallStreamObserver<StageChangeEvent>) out, ProtoMapping::toProto);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void listAtRisk(ListAtRiskRequest req, StreamObserver<ListAtRiskResponse> out) {
    try {
      Stage stage = req.getStage() == io.twinfleet.protocol.v1.Stage.STAGE_UNSPECIFIED ? null : ProtoMapping.stage("stage", req.getStage(), false);
      if (req.getMinScore() < 0 || req.getMinScore() > 100) {
        throw new InvalidField("min_score", req.getMinScore() + " is outside 0..100");
      }
      int limit = Paging.pageSize("limit", req.getLimit());
      Answers.answer(queries.atRisk(stage, req.getMinScore(), limit), out, rows -> {
        ListAtRiskResponse.Builder b = ListAtRiskResponse.newBuilder();
        rows.forEach(row -> b.addDevices(ProtoMapping.toAtRisk(row)));
        return b.build();
      });
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  /** Validated list and funnel filters; a stage, when given, must be one with a journey. */
  private static Filter filter(io.twinfleet.protocol.v1.Stage stage, String siteId, String customerId, String model) {
    Stage s = stage == io.twinfleet.protocol.v1.Stage.STAGE_UNSPECIFIED ? null : ProtoMapping.stage("stage", stage, false);
    return new Filter(
        s,
        siteId.isEmpty() ? null : Validation.id("site_id", siteId),
        customerId.isEmpty() ? null : Validation.id("customer_id", customerId),
        model.isEmpty() ? null : Validation.text("model", model));
  }

  private CompletionStage<Reply> ask(String deviceId, Function<ActorRef<Reply>, Command> command) {
    return twins.ask(deviceId, command);
  }
}
