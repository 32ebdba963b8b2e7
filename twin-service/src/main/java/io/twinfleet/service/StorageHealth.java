package io.twinfleet.service;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node can write to Cassandra now, as a cheap probe finds every half second. While it
 * cannot, twins refuse what they would have to store with UNAVAILABLE at once, and change nothing,
 * instead of trying (a failed write stops a twin and loses what it held in memory, and its caller
 * waits for the ask timeout); they keep answering reads and plain heartbeats from memory. Until
 * {@link #start} it reports Cassandra as reachable (entity tests).
 */
public final class StorageHealth implements Extension {

  private static final Logger log = LoggerFactory.getLogger(StorageHealth.class);
  private static final Duration EVERY = Duration.ofMillis(500);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);
  private static final SimpleStatement PROBE = SimpleStatement.newInstance("SELECT release_version FROM system.local")
      .setTimeout(PROBE_TIMEOUT).setIdempotent(true);

  private static final ExtensionId<StorageHealth> ID = new ExtensionId<>() {
    @Override
    public StorageHealth createExtension(ActorSystem<?> system) {
      return new StorageHealth();
    }
  };

  private volatile Instant downSince; // null while Cassandra answers
  private volatile String why;
  private volatile Cancellable probing;

  private StorageHealth() {}

  public static StorageHealth get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Starts probing Cassandra through {@code session}, every half second until the system stops. */
  public synchronized void start(ActorSystem<?> system, CqlSession session) {
    if (probing != null) {
      return;
    }
    probing = system.scheduler().scheduleWithFixedDelay(EVERY, EVERY, () ->
        session.executeAsync(PROBE).whenComplete((rs, error) -> {
          if (error == null) {
            up();
          } else {
            down(error.getClass().getSimpleName() + ": " + error.getMessage());
          }
        }), system.executionContext());
  }

  /** Whether writes are refused now. */
  public boolean down() {
    return downSince != null;
  }

  /** What a refused command is told. */
  public String refusal() {
    Instant since = downSince;
    return "storage (Cassandra) has not answered since " + (since == null ? "a moment ago" : since)
        + "; nothing was changed; safe to retry";
  }

  /** Cassandra did not answer: refuse writes from now on. */
  public void down(String reason) {
    if (downSince == null) {
      downSince = Instant.now();
      why = reason;
      log.warn("Cassandra does not answer ({}): commands that store something are refused with UNAVAILABLE until it does;"
          + " reads and plain heartbeats go on from memory", reason);
    }
  }

  /** Cassandra answered: accept writes again. */
  public void up() {
    Instant since = downSince;
    if (since != null) {
      downSince = null;
      log.info("Cassandra answers again after {} ({}): commands are accepted", Duration.between(since, Instant.now()), why);
    }
  }
}
