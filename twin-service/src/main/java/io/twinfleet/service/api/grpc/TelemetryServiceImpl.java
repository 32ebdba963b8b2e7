package io.twinfleet.service.api.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.BatchAck;
import io.twinfleet.protocol.v1.ReadingBatch;
import io.twinfleet.protocol.v1.Rejection;
import io.twinfleet.protocol.v1.ReportResponse;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import io.twinfleet.service.ServiceClock;
import io.twinfleet.service.ServiceMetrics;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.Asks;
import io.twinfleet.service.device.DeviceTwin.ReportListener;
import io.twinfleet.service.device.DeviceTwin.ReportOutcome;
import io.twinfleet.service.device.ErrorCode;
import io.twinfleet.service.device.Validation;
import io.twinfleet.service.device.Reading;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.security.Principal;
import io.twinfleet.service.security.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * TelemetryService. Readings are validated here, on the transport thread, and sent to their twins
 * with one {@code tell} each through the local shard region: nothing blocks, and no reading costs
 * an ask. Outcomes come back to a {@link BatchAcker} per stream.
 *
 * <p>Memory under a flood is bounded twice: each stream reads a new batch only while fewer than
 * {@code max-batches-in-flight} wait for their acks, and the node holds at most {@code
 * max-readings-in-flight} readings from their arrival to their answer, over all streams and calls;
 * what arrives beyond that is refused at once with RESOURCE_EXHAUSTED, before it reaches a twin.
 */
public final class TelemetryServiceImpl extends TelemetryServiceGrpc.TelemetryServiceImplBase {

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Asks asks;
  private final ActorRef<ShardingEnvelope<DeviceTwin.Command>> region;
  private final ActorRef<ShardingEnvelope<DeviceTwin.Command>> baseline;
  private final GrpcSettings settings;
  private final DeviceSettings deviceSettings;
  private final ServiceClock clock;
  private final AtomicLong streams = new AtomicLong();
  private final InFlightReadings inFlight;
  private final ServiceMetrics metrics;

  /** How long a client should wait when the node holds all the readings it takes. */
  static final Duration BUSY_RETRY = Duration.ofMillis(250);

  public TelemetryServiceImpl(
      ActorSystem<?> system,
      ActorRef<ShardingEnvelope<DeviceTwin.Command>> region,
      ActorRef<ShardingEnvelope<DeviceTwin.Command>> baseline,
      GrpcSettings settings,
      DeviceSettings deviceSettings,
      ServiceClock clock) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.asks = new Asks(system, settings.askTimeout());
    this.region = region;
    this.baseline = baseline;
    this.settings = settings;
    this.deviceSettings = deviceSettings;
    this.clock = clock;
    this.inFlight = new InFlightReadings(settings.maxReadingsInFlight());
    this.metrics = ServiceMetrics.get(system);
  }

  @Override
  public void report(io.twinfleet.protocol.v1.Reading request, StreamObserver<ReportResponse> responses) {
    metrics.readingsReceived(1);
    StreamObserver<ReportResponse> out = counted(responses);
    Reading reading;
    try {
      reading = ProtoMapping.reading(request, -1, clock.instant(), deviceSettings);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
      return;
    }
    Principal caller = Principal.current();
    if (!caller.speaksFor(reading.deviceId())) {
      out.onError(Status.PERMISSION_DENIED.withDescription(notItsDevice(caller, reading.deviceId())).asRuntimeException());
      return;
    }
    if (!inFlight.tryTakeOne()) {
      out.onError(Status.RESOURCE_EXHAUSTED.withDescription(busy()).asRuntimeException());
      return;
    }
    asks.<DeviceTwin.Command, ReportListener>ask(DeviceTwin.ENTITY_KEY, reading.deviceId(), replyTo -> new DeviceTwin.Report(reading, 0, 0, replyTo))
        .whenComplete((answer, error) -> {
          inFlight.returnOne();
          Answers.guarded(out, () -> {
            if (error != null) {
              out.onError(GrpcErrors.from(error));
            } else if (answer instanceof ReportOutcome o && o.error() != null) {
              out.onError(GrpcErrors.of(o.error(), o.message()));
            } else {
              out.onNext(ReportResponse.getDefaultInstance());
              out.onCompleted();
            }
          });
        });
  }

  @Override
  public StreamObserver<ReadingBatch> reportStream(StreamObserver<BatchAck> responseObserver) {
    ServerCallStreamObserver<BatchAck> call = (ServerCallStreamObserver<BatchAck>) responseObserver;
    String sink = ServiceHeaders.REQUESTED_SINK.get();
    Principal caller = Principal.current();
    if (sink != null && (!sink.equals("baseline") || baseline == null || caller.role() != Role.ADMIN)) {
      responseObserver.onError((!sink.equals("baseline")
          ? Status.INVALID_ARGUMENT.withDescription("twinfleet-sink: the only sink is 'baseline', not '" + sink + "'")
          : baseline == null
              ? Status.FAILED_PRECONDITION.withDescription("twinfleet-sink: the baseline sink is switched off on this service (twinfleet.grpc.baseline-sink)")
              : Status.PERMISSION_DENIED.withDescription("twinfleet-sink: the baseline sink takes admin tokens only")).asRuntimeException());
      return new StreamObserver<>() {
        public void onNext(ReadingBatch batch) {}
        public void onError(Throwable t) {}
        public void onCompleted() {}
      };
    }
    ActorRef<ShardingEnvelope<DeviceTwin.Command>> target = sink == null ? region : baseline;
    call.disableAutoRequest();
    InFlightReadings.Account permits = inFlight.account();
    ActorRef<ReportListener> acker = system.systemActorOf(
        BatchAcker.create(call, settings.askTimeout(), permits), "report-stream-" + streams.incrementAndGet(), Props.empty());
    call.setOnCancelHandler(() -> acker.tell(new BatchAcker.ClientGone()));
    call.request(settings.maxBatchesInFlight());

    return new StreamObserver<>() {
      private long nextKey;
      private boolean failed;

      @Override
      public void onNext(ReadingBatch batch) {
        if (failed) {
          return;
        }
        if (batch == null) { // see MalformedRequests
          fail(MalformedRequests.description(ReadingBatch.getDescriptor().getFullName()));
          return;
        }
        int n = batch.getReadingsCount();
        metrics.readingsReceived(n);
        if (n == 0 || n > settings.maxBatchSize()) {
          metrics.readingsAnswered(Status.Code.INVALID_ARGUMENT.name(), n); // the stream's end answers them
          fail("batch " + Long.toUnsignedString(batch.getBatchId()) + ": readings: a batch holds 1 to " + settings.maxBatchSize()
              + " readings, this one has " + n);
          return;
        }
        long key = nextKey++;
        List<String> deviceIds = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          deviceIds.add(Validation.abbreviate(batch.getReadings(i).getDeviceId()));
        }
        if (!permits.take(n)) {
          List<Rejection> all = new ArrayList<>(n);
          String busy = busy();
          for (int i = 0; i < n; i++) {
            all.add(BatchAcker.rejection(i, deviceIds.get(i), Status.Code.RESOURCE_EXHAUSTED.name(), busy, BUSY_RETRY));
          }
          acker.tell(new BatchAcker.Track(key, batch.getBatchId(), deviceIds, 0, all, 0));
          return;
        }
        Instant now = clock.instant();
        List<Rejection> rejections = new ArrayList<>(0);
        Reading[] valid = new Reading[n];
        for (int i = 0; i < n; i++) {
          try {
            Reading r = ProtoMapping.reading(batch.getReadings(i), i, now, deviceSettings);
            if (caller.speaksFor(r.deviceId())) {
              valid[i] = r;
            } else {
              rejections.add(BatchAcker.rejection(i, deviceIds.get(i), Status.Code.PERMISSION_DENIED.name(), notItsDevice(caller, r.deviceId()), null));
            }
          } catch (InvalidField e) {
            rejections.add(BatchAcker.rejection(i, deviceIds.get(i), ErrorCode.INVALID_ARGUMENT.name(), e.getMessage(), null));
          }
        }
        // Track first: the acker must know the batch before any twin can answer for it.
        acker.tell(new BatchAcker.Track(key, batch.getBatchId(), deviceIds, n - rejections.size(), rejections, n));
        for (int i = 0; i < n; i++) {
          if (valid[i] != null) {
            target.tell(new ShardingEnvelope<>(valid[i].deviceId(), new DeviceTwin.Report(valid[i], key, i, acker)));
          }
        }
      }

      /** Ends the stream with INVALID_ARGUMENT once the batches before this one are acknowledged. */
      private void fail(String description) {
        failed = true;
        acker.tell(new BatchAcker.Fail(Status.INVALID_ARGUMENT.withDescription(description)));
      }

      @Override
      public void onError(Throwable t) {
        acker.tell(new BatchAcker.ClientGone());
      }

      @Override
      public void onCompleted() {
        acker.tell(new BatchAcker.ClientDone());
      }
    };
  }

  /** {@code out}, counting its one reading's answer: accepted, or the status it was refused with. */
  private StreamObserver<ReportResponse> counted(StreamObserver<ReportResponse> out) {
    return new StreamObserver<>() {
      @Override
      public void onNext(ReportResponse value) {
        metrics.readingsAnswered("accepted", 1);
        out.onNext(value);
      }

      @Override
      public void onError(Throwable t) {
        metrics.readingsAnswered(Status.fromThrowable(t).getCode().name(), 1);
        out.onError(t);
      }

      @Override
      public void onCompleted() {
        out.onCompleted();
      }
    };
  }

  private String busy() {
    return "this node holds as many readings as it takes at once (twinfleet.grpc.max-readings-in-flight = " + settings.maxReadingsInFlight()
        + "); nothing changed; send again in " + BUSY_RETRY.toMillis() + " ms";
  }

  private static String notItsDevice(Principal caller, String deviceId) {
    return "device_id: this token reports for device " + caller.deviceId() + " only, not " + Validation.abbreviate(deviceId);
  }
}
