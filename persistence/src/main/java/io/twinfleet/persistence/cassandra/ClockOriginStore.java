package io.twinfleet.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.util.Optional;

/**
 * The {@code service_clock} row: where the accelerated service clock started, and its speed. Nodes
 * of a cluster start at about the same time and must agree on the time: the row is only ever
 * created or replaced with a lightweight transaction, and every node then uses what was stored.
 */
public final class ClockOriginStore {

  /** At {@code realOrigin} the simulated time was {@code simulatedOrigin}; it runs {@code speed} times faster. */
  public record Origin(double speed, Instant realOrigin, Instant simulatedOrigin) {}

  private static final String NAME = "service";

  private final CqlSession session;
  private final PreparedStatement read;
  private final PreparedStatement create;
  private final PreparedStatement replace;

  public ClockOriginStore(CqlSession session, String keyspace) {
    this.session = session;
    read = session.prepare("SELECT speed, real_origin, simulated_origin FROM " + keyspace + ".service_clock WHERE name = ?");
    create = session.prepare("INSERT INTO " + keyspace + ".service_clock (name, speed, real_origin, simulated_origin) VALUES (?, ?, ?, ?) IF NOT EXISTS");
    replace = session.prepare("UPDATE " + keyspace + ".service_clock SET speed = ?, real_origin = ?, simulated_origin = ? "
        + "WHERE name = ? IF speed = ? AND real_origin = ?");
  }

  /** The stored origin, read as the last lightweight transaction left it (serial consistency). */
  public Optional<Origin> read() {
    Row row = session.execute(read.bind(NAME).setConsistencyLevel(DefaultConsistencyLevel.SERIAL)).one();
    return row == null
        ? Optional.empty()
        : Optional.of(new Origin(row.getDouble("speed"), row.getInstant("real_origin"), row.getInstant("simulated_origin")));
  }

  /**
   * Stores {@code proposed} in place of {@code expected} (null: nothing stored yet), unless another
   * node got there first; returns what is stored now, which every node then uses.
   */
  public Origin store(Origin expected, Origin proposed) {
    if (expected == null) {
      session.execute(create.bind(NAME, proposed.speed(), proposed.realOrigin(), proposed.simulatedOrigin()));
    } else if (!expected.equals(proposed)) {
      session.execute(replace.bind(proposed.speed(), proposed.realOrigin(), proposed.simulatedOrigin(), NAME,
          expected.speed(), expected.realOrigin()));
    }
    return read().orElseThrow(() -> new IllegalStateException("the service clock row vanished"));
  }
}
