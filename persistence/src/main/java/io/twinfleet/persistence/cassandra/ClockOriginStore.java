package io.twinfleet.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.util.Optional;

/** The {@code service_clock} row: where the accelerated service clock started, and its speed. */
public final class ClockOriginStore {

  /** At {@code realOrigin} the simulated time was {@code simulatedOrigin}; it runs {@code speed} times faster. */
  public record Origin(double speed, Instant realOrigin, Instant simulatedOrigin) {}

  private static final String NAME = "service";

  private final CqlSession session;
  private final PreparedStatement read;
  private final PreparedStatement write;

  public ClockOriginStore(CqlSession session, String keyspace) {
    this.session = session;
    read = session.prepare("SELECT speed, real_origin, simulated_origin FROM " + keyspace + ".service_clock WHERE name = ?");
    write = session.prepare("INSERT INTO " + keyspace + ".service_clock (name, speed, real_origin, simulated_origin) VALUES (?, ?, ?, ?)");
  }

  public Optional<Origin> read() {
    Row row = session.execute(read.bind(NAME)).one();
    return row == null
        ? Optional.empty()
        : Optional.of(new Origin(row.getDouble("speed"), row.getInstant("real_origin"), row.getInstant("simulated_origin")));
  }

  public void write(Origin origin) {
    session.execute(write.bind(NAME, origin.speed(), origin.realOrigin(), origin.simulatedOrigin()));
  }
}
