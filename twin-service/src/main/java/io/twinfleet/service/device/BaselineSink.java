package io.twinfleet.service.device;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * A sharded entity that does nothing: it accepts every reading it is sent and keeps no state. The
 * load test streams to it (header {@code twinfleet-sink: baseline}) through exactly the path the
 * twins get, validation, shard routing and batch acks included, to measure what transport plus
 * cluster routing allow on this machine; Twinfleet's own ingest is reported as a share of that.
 * Same id space as the twins, one entity per device id, passivated like them.
 */
public final class BaselineSink {

  public static final EntityTypeKey<DeviceTwin.Command> ENTITY_KEY = EntityTypeKey.create(DeviceTwin.Command.class, "BaselineSink");

  private static final Behavior<DeviceTwin.Command> ACCEPT_ALL = Behaviors.receiveMessage(command -> {
    if (command instanceof DeviceTwin.Report r) {
      r.replyTo().tell(new DeviceTwin.ReportOutcome(r.batchKey(), r.index(), null, null));
    }
    return Behaviors.same();
  });

  private BaselineSink() {}

  public static ActorRef<ShardingEnvelope<DeviceTwin.Command>> init(ActorSystem<?> system) {
    return ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> ACCEPT_ALL));
  }
}
