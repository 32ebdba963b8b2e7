package io.twinfleet.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The schema files and their splitting into statements, without a Cassandra node. */
class CassandraSchemaTest {

    @Test
    void everySchemaFileIsOnTheClassPath() {
        for (String file : CassandraSchema.files()) {
            assertNotNull(getClass().getClassLoader().getResource(file), file);
        }
    }

    @Test
    void splitsAtSemicolonsAndDropsCommentLines() {
        String text = """
                -- a table
                CREATE TABLE a (x int PRIMARY KEY);
                // another one
                CREATE TABLE b (
                  y int PRIMARY KEY);
                """;

        assertEquals(List.of("CREATE TABLE a (x int PRIMARY KEY)", "CREATE TABLE b (\n  y int PRIMARY KEY)"),
                CassandraSchema.statements(text));
    }

    @Test
    void rejectsKeyspaceNamesThatWouldNeedQuoting() {
        for (String bad : new String[] {"Twinfleet", "1st", "with-dash", "", "a".repeat(49), "x; DROP"}) {
            assertThrows(IllegalArgumentException.class, () -> CassandraSchema.requireValidKeyspace(bad), bad);
        }
        assertDoesNotThrow(() -> CassandraSchema.requireValidKeyspace("twinfleet_test_1"));
    }
}
