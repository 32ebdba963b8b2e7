package io.twinfleet.loadtest.baseline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The baseline counts only inserts Cassandra acknowledged, and each of them really is a row: a
 * rate computed from its count is a rate of stored rows. No timing is asserted, since the rate
 * depends on the machine; it is printed for whoever reads the test output.
 */
@ExtendWith(CassandraExtension.class)
class CassandraInsertBaselineTest {

  @Test
  void everyAcknowledgedInsertIsInTheTable(TestKeyspace keyspace) throws Exception {
    CqlSession session = keyspace.session();
    List<Long> progress = new CopyOnWriteArrayList<>();
    try {
      CassandraInsertBaseline.Result result =
          CassandraInsertBaseline.run(session, Duration.ofSeconds(2), 32, progress::add);
      System.out.printf(Locale.ROOT,
          "Cassandra insert baseline: %,d inserts in %.2f s = %,.0f inserts/s; latency ms p50 %.2f p99 %.2f max %.2f;"
              + " errors %d; progress %s%n",
          result.inserts(), result.seconds(), result.insertsPerSecond(), result.p50Millis(), result.p99Millis(),
          result.maxMillis(), result.errors(), progress);

      assertTrue(result.inserts() > 0, "no insert was acknowledged");
      assertEquals(0, result.errors(), "failed inserts");
      // A full-table count scans every row, which takes longer than an insert's timeout allows.
      long rows = session.execute(SimpleStatement
              .newInstance("SELECT count(*) FROM " + CassandraInsertBaseline.KEYSPACE + ".messages")
              .setTimeout(Duration.ofSeconds(60)))
          .one().getLong(0);
      assertEquals(result.inserts(), rows, "rows in the table vs acknowledged inserts");
    } finally {
      CassandraInsertBaseline.dropKeyspace(session);
    }
  }
}
