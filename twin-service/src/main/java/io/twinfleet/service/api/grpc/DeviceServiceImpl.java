package io.twinfleet.service.api.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.protocol.v1.ClaimDeviceRequest;
import io.twinfleet.protocol.v1.DecommissionDeviceRequest;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.ListCustomerDevicesRequest;
import io.twinfleet.protocol.v1.ListCustomerDevicesResponse;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import io.twinfleet.protocol.v1.WatchDeviceRequest;
import io.twinfleet.service.PageTokens;
import io.twinfleet.service.device.DeviceSettings;
import io.twinfleet.service.device.ErrorCode;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceView;
import io.twinfleet.service.device.DeviceTwin.Accepted;
import io.twinfleet.service.device.DeviceTwin.Command;
import io.twinfleet.service.device.DeviceTwin.Rejected;
import io.twinfleet.service.device.DeviceTwin.Reply;
import io.twinfleet.service.device.Validation;
import io.twinfleet.service.device.Validation.InvalidField;
import io.twinfleet.service.security.Principal;
import java.time.Duration;
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
 * DeviceService: validates each request, asks the device's twin, and maps the answer. Requests that
 * fail validation never reach a twin, so they change nothing.
 */
public final class DeviceServiceImpl extends DeviceServiceGrpc.DeviceServiceImplBase {

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Twins twins;
  private final DeviceSettings deviceSettings;
  private final CustomerDevicesRepository customerDevices;

  public DeviceServiceImpl(
      ActorSystem<?> system, GrpcSettings settings, DeviceSettings deviceSettings, CustomerDevicesRepository customerDevices) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.twins = new Twins(system, settings);
    this.deviceSettings = deviceSettings;
    this.customerDevices = customerDevices;
  }

  @Override
  public void registerDevice(RegisterDeviceRequest req, StreamObserver<Device> out) {
    try {
      String id = Validation.id("device_id", req.getDeviceId());
      String model = Validation.text("model", req.getModel());
      String serial = Validation.text("serial", req.getSerial());
      Duration heartbeat = req.hasHeartbeatInterval()
          ? Validation.heartbeat("heartbeat_interval", ProtoMapping.duration("heartbeat_interval", req.getHeartbeatInterval()))
          : deviceSettings.defaultHeartbeatInterval();
      String firmware = req.getFirmwareVersion().isEmpty() ? null : Validation.text("firmware_version", req.getFirmwareVersion());
      reply(twins.askToStore(id, replyTo -> new DeviceTwin.Register(model, serial, heartbeat, firmware, replyTo)), out);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void claimDevice(ClaimDeviceRequest req, StreamObserver<Device> out) {
    try {
      String id = Validation.id("device_id", req.getDeviceId());
      String customer = Validation.id("customer_id", req.getCustomerId());
      String site = Validation.id("site_id", req.getSiteId());
      reply(twins.askToStore(id, replyTo -> new DeviceTwin.Claim(customer, site, replyTo)), out);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void getDevice(GetDeviceRequest req, StreamObserver<Device> out) {
    try {
      String id = Validation.id("device_id", req.getDeviceId());
      Principal caller = Principal.current();
      reply(ask(id, DeviceTwin.Get::new).thenApply(r -> seenBy(caller, id, r)), out);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void decommissionDevice(DecommissionDeviceRequest req, StreamObserver<Device> out) {
    try {
      String id = Validation.id("device_id", req.getDeviceId());
      var reason = ProtoMapping.reason("reason", req.getReason());
      reply(twins.askToStore(id, replyTo -> new DeviceTwin.Decommission(reason, replyTo)), out);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
    }
  }

  @Override
  public void listCustomerDevices(ListCustomerDevicesRequest req, StreamObserver<ListCustomerDevicesResponse> out) {
    String customer;
    int pageSize;
    String after;
    try {
      customer = Validation.id("customer_id", req.getCustomerId());
      pageSize = Paging.pageSize("page_size", req.getPageSize());
      after = req.getPageToken().isEmpty() ? null
          : Validation.id("page_token", PageTokens.decode(listingFingerprint(customer, req.getIncludeDecommissioned()), req.getPageToken(), 1)[0]);
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
      return;
    }
    Principal caller = Principal.current();
    if (!caller.seesCustomer(customer)) {
      out.onError(Status.PERMISSION_DENIED.withDescription(
          "customer_id: this app token lists customer " + caller.customerId() + "'s devices only, not " + customer).asRuntimeException());
      return;
    }
    customerDevices.page(customer, after, pageSize, req.getIncludeDecommissioned())
        .thenCompose(page -> {
          List<CompletableFuture<Reply>> views = new ArrayList<>(page.deviceIds().size());
          for (String id : page.deviceIds()) {
            views.add(ask(id, DeviceTwin.Get::new).toCompletableFuture());
          }
          return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenApply(done -> {
            ListCustomerDevicesResponse.Builder b = ListCustomerDevicesResponse.newBuilder();
            for (CompletableFuture<Reply> v : views) {
              if (v.join() instanceof Accepted a) {
                b.addDevices(ProtoMapping.toProto(a.view()));
              }
            }
            if (page.lastDeviceId() != null) {
              b.setNextPageToken(PageTokens.encode(listingFingerprint(customer, req.getIncludeDecommissioned()), page.lastDeviceId()));
            }
            return b.build();
          });
        })
        .whenComplete((response, error) -> Answers.guarded(out, () -> {
          if (error != null) {
            out.onError(GrpcErrors.from(error));
          } else {
            out.onNext(response);
            out.onCompleted();
          }
        }));
  }

  @Override
  public void watchDevice(WatchDeviceRequest req, StreamObserver<Device> out) {
    String id;
    try {
      id = Validation.id("device_id", req.getDeviceId());
    } catch (InvalidField e) {
      out.onError(GrpcErrors.from(e));
      return;
    }
    ServerCallStreamObserver<Device> call = (ServerCallStreamObserver<Device>) out;
    EntityWatcher.Pending<Device> watch = EntityWatcher.pending(call);
    Principal caller = Principal.current();
    // Ask first, so an unknown device is NOT_FOUND rather than a stream that never says anything.
    ask(id, DeviceTwin.Get::new).thenApply(r -> seenBy(caller, id, r)).whenComplete((reply, error) -> Answers.guarded(out, () -> {
      if (error != null) {
        out.onError(GrpcErrors.from(error));
      } else if (reply instanceof Rejected r) {
        out.onError(GrpcErrors.of(r.code(), r.message()));
      } else if (!call.isCancelled()) {
        EntityRef<Command> twin = sharding.entityRefFor(DeviceTwin.ENTITY_KEY, id);
        watch.start(system, id, DeviceView.class, w -> twin.tell(new DeviceTwin.Watch(w.narrow())),
            w -> twin.tell(new DeviceTwin.Unwatch(w.narrow())), view -> {
              if (!caller.seesCustomer(view.customerId())) { // claimed by another customer meanwhile
                throw GrpcErrors.of(ErrorCode.NOT_FOUND, DeviceTwin.notRegistered(id));
              }
              return ProtoMapping.toProto(view);
            });
      }
    }));
  }

  /** What a ListCustomerDevices page token is tied to. */
  private static String listingFingerprint(String customer, boolean includeDecommissioned) {
    return "customer-devices:" + customer + ":" + includeDecommissioned;
  }

  private CompletionStage<Reply> ask(String deviceId, Function<ActorRef<Reply>, Command> command) {
    return twins.ask(deviceId, command);
  }

  /** The answer as {@code caller} may see it: another customer's device is as missing as a device never registered. */
  private static Reply seenBy(Principal caller, String deviceId, Reply reply) {
    if (reply instanceof Accepted a && !caller.seesCustomer(a.view().customerId())) {
      return new Rejected(ErrorCode.NOT_FOUND, DeviceTwin.notRegistered(deviceId));
    }
    return reply;
  }

  private static void reply(CompletionStage<Reply> answer, StreamObserver<Device> out) {
    answer.whenComplete((reply, error) -> Twins.answer(out, reply, error, Accepted.class, a -> ProtoMapping.toProto(a.view())));
  }
}
