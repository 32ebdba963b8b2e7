package io.twinfleet.service.api.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.service.device.DeviceTwin;
import io.twinfleet.service.device.DeviceView;
import java.time.Duration;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * One WatchDevice stream: subscribes to the twin and forwards each changed view to the client.
 *
 * <p>It subscribes again every {@link #RESUBSCRIBE} because a twin forgets its watchers when it
 * moves to another node or is passivated; subscribing is idempotent and answered with the current
 * view, which is sent on only if it differs from the last one sent. Stops, and unsubscribes, when
 * the client cancels.
 */
final class DeviceWatcher {

  static final Duration RESUBSCRIBE = Duration.ofSeconds(20);

  sealed interface Message extends DeviceTwin.ViewSubscriber {}

  record Cancelled() implements Message {}

  private record Resubscribe() implements Message {}

  private DeviceWatcher() {}

  static Behavior<DeviceTwin.ViewSubscriber> create(EntityRef<DeviceTwin.Command> twin, ServerCallStreamObserver<Device> out) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      twin.tell(new DeviceTwin.Watch(ctx.getSelf()));
      timers.startTimerWithFixedDelay(new Resubscribe(), RESUBSCRIBE);
      Device[] last = new Device[1];
      return Behaviors.receive(DeviceTwin.ViewSubscriber.class)
          .onMessage(DeviceView.class, view -> {
            Device d = ProtoMapping.toProto(view);
            if (!d.equals(last[0]) && !out.isCancelled()) {
              last[0] = d;
              out.onNext(d);
            }
            return Behaviors.same();
          })
          .onMessage(Resubscribe.class, r -> {
            twin.tell(new DeviceTwin.Watch(ctx.getSelf()));
            return Behaviors.same();
          })
          .onMessage(Cancelled.class, c -> {
            twin.tell(new DeviceTwin.Unwatch(ctx.getSelf()));
            return Behaviors.stopped();
          })
          .build();
    }));
  }
}
