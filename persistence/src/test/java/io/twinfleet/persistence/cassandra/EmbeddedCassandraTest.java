package io.twinfleet.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The forked node and the schema, against the test JVM's shared node. */
@ExtendWith(CassandraExtension.class)
class EmbeddedCassandraTest {

    private static final Set<String> SCHEMA_TABLES = Set.of(
            "messages", "tag_views", "tag_write_progress", "tag_scanning", "metadata", "all_persistence_ids",
            "snapshots", "offset_store", "projection_management", "customer_devices", "stage_milestones",
            "stage_milestone_progress", "service_clock", "device_journeys", "stage_devices", "site_devices",
            "stage_funnel", "at_risk_devices", "device_sites", "sites", "quality_slices", "quality_hours", "quality_open", "quality_devices", "alerts",
            "site_alerts");

    @Test
    void answersCqlAsCassandra50(TestKeyspace keyspace) {
        Row row = keyspace.session().execute("SELECT release_version FROM system.local").one();

        assertTrue(row.getString("release_version").startsWith("5.0"), row.getString("release_version"));
    }

    @Test
    void testKeyspaceHasEveryTableOfTheSchema(TestKeyspace keyspace) {
        assertEquals(SCHEMA_TABLES, tablesOf(keyspace.session(), keyspace.keyspace()));
    }

    @Test
    void schemaAppliesToAFreshKeyspace(TestKeyspace keyspace) {
        String fresh = "fresh_" + UUID.randomUUID().toString().substring(0, 8);
        CqlSession session = keyspace.session();

        CassandraSchema.createKeyspace(session, fresh);
        CassandraSchema.apply(session, fresh);

        assertEquals(SCHEMA_TABLES, tablesOf(session, fresh));
        // The per-statement keyspace must not have moved the session off its own keyspace.
        assertEquals(keyspace.keyspace(), session.getKeyspace().orElseThrow().asInternal());
    }

    @Test
    void applyingTheSchemaTwiceKeepsTablesAndData(TestKeyspace keyspace) {
        CqlSession session = keyspace.session();
        session.execute("INSERT INTO customer_devices (customer_id, device_id, site_id, model, claimed_at,"
                + " decommissioned) VALUES (?, ?, ?, ?, ?, ?)", "c-1", "d-1", "s-1", "thermo-2", Instant.now(), false);

        CassandraSchema.createKeyspace(session, keyspace.keyspace());
        CassandraSchema.apply(session, keyspace.keyspace());

        assertEquals(SCHEMA_TABLES, tablesOf(session, keyspace.keyspace()));
        Row row = session.execute("SELECT model FROM customer_devices WHERE customer_id = ?", "c-1").one();
        assertEquals("thermo-2", row.getString("model"));
    }

    private static Set<String> tablesOf(CqlSession session, String keyspace) {
        return session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace)
                .all().stream().map(row -> row.getString("table_name")).collect(Collectors.toSet());
    }
}
