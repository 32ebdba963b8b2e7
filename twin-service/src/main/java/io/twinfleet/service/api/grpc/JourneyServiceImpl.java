package io.twinfleet.service.api.grpc;

import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.DeviceJourney;
import io.twinfleet.protocol.v1.GetDeviceJourneyRequest;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.RecordTouchpointRequest;
import io.twinfleet.protocol.v1.Touchpoint;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceTwin.Command;
import io.twinfleet.service.device.DeviceTwin.JourneyAnswer;
import io.twinfleet.service.device.DeviceTwin.Rejected;
import io.twinfleet.service.device.DeviceTwin.Reply;
import io.twinfleet.service.device.DeviceTwin.TouchpointAnswer;
import io.twinfleet.service.device.TouchpointKind;
import io.twinfleet.service.device.Validation;
import io.twinfleet.service.device.Validation.InvalidField;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * JourneyService: a device's journey and its touchpoints, answered by the device's twin. Requests
 * that fail validation never reach a twin.
 */
public final class JourneyServiceImpl extends JourneyServiceGrpc.JourneyServiceImplBase {

  /** The longest note a touchpoint takes. */
  static final int MAX_NOTE = 2_000;

  private final Twins twins;
  private final DeviceSettings deviceSettings;
  private final ServiceClock clock;

  public JourneyServiceImpl(ActorSystem<?> system, GrpcSettings settings, DeviceSettings deviceSettings, ServiceClock clock) {
    this.twins = new Twins(ClusterSharding.get(system), settings);
    this.deviceSettings = deviceSettings;
    this.clock = clock;
  }

  @Override
  public void getDeviceJourney(GetDeviceJourneyRequest req, StreamObserver<DeviceJourney> out) {
    try {
      String id = Validation.id("device_id", req.getDeviceId());
      ask(id, DeviceTwin.GetJourney::new).whenComplete((reply, error) -> {
        if (reply instanceof JourneyAnswer a) {
          respond(out, ProtoMapping.toProto(a.journey()));
        } else {
          fail(out, reply, error);
        }
      });
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
      ask(id, replyTo -> new DeviceTwin.RecordTouchpoint(touchpointId, kind, note, at, replyTo)).whenComplete((reply, error) -> {
        if (reply instanceof TouchpointAnswer a) {
          respond(out, ProtoMapping.toProto(a.touchpoint()));
        } else {
          fail(out, reply, error);
        }
      });
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  private CompletionStage<Reply> ask(String deviceId, Function<ActorRef<Reply>, Command> command) {
    return twins.ask(deviceId, command);
  }

  private static <T> void respond(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }

  private static void fail(StreamObserver<?> out, Reply reply, Throwable error) {
    if (reply instanceof Rejected r) {
      out.onError(GrpcErrors.of(r.code(), r.message()));
    } else {
      out.onError(GrpcErrors.from(error != null ? error : new IllegalStateException("unexpected answer " + reply)));
    }
  }
}
