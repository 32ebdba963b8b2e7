package io.twinfleet.persistence.cassandra;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Twinfleet's Cassandra schema, kept as numbered {@code .cql} files on the classpath.
 *
 * <p>The files name no keyspace, so one schema serves production, a developer's node and a fresh
 * keyspace per test class. {@link #apply} runs each statement with the keyspace set on the request
 * (native protocol v5, Cassandra 4.0 and later), which leaves the caller's session untouched.
 * Every statement is {@code IF NOT EXISTS}, so applying the schema again is harmless.
 */
public final class CassandraSchema {

    private static final Logger log = LoggerFactory.getLogger(CassandraSchema.class);

    private static final String DIRECTORY = "io/twinfleet/persistence/schema/";
    /** In the order they must run; a class path cannot be listed portably, so they are named here. */
    private static final List<String> FILES = List.of(
            "01-journal.cql", "02-snapshots.cql", "03-projection-offsets.cql", "04-read-models.cql", "05-service-clock.cql",
            "06-journey-read-models.cql", "07-site-read-models.cql", "08-quality-read-models.cql",
            "09-alert-read-models.cql");
    /** Unquoted, lower case and within Cassandra's 48 character limit, so it never needs quoting. */
    private static final Pattern KEYSPACE = Pattern.compile("[a-z][a-z0-9_]{0,47}");

    private CassandraSchema() {
    }

    /** The schema files as class path resource names, in the order {@link #apply} runs them. */
    public static List<String> files() {
        return FILES.stream().map(name -> DIRECTORY + name).toList();
    }

    /**
     * Creates the keyspace with SimpleStrategy and one replica if it does not exist. For development
     * and tests only: production keyspaces are created by operators with NetworkTopologyStrategy.
     */
    public static void createKeyspace(CqlSession session, String keyspace) {
        requireValidKeyspace(keyspace);
        session.execute("CREATE KEYSPACE IF NOT EXISTS " + keyspace
                + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        awaitSchemaAgreement(session);
    }

    /**
     * Creates the keyspace with NetworkTopologyStrategy and {@code replicas} replicas in {@code
     * datacenter} if it does not exist, and returns its replication as Cassandra then reports it
     * (an existing keyspace keeps its own).
     */
    public static String createKeyspace(CqlSession session, String keyspace, String datacenter, int replicas) {
        requireValidKeyspace(keyspace);
        if (!datacenter.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("datacenter '" + datacenter + "' is not a datacenter name (letters, digits, _ . -)");
        }
        if (replicas < 1 || replicas > 9) {
            throw new IllegalArgumentException("replication factor " + replicas + " is out of range 1..9");
        }
        session.execute("CREATE KEYSPACE IF NOT EXISTS " + keyspace
                + " WITH replication = {'class': 'NetworkTopologyStrategy', '" + datacenter + "': " + replicas + "}");
        awaitSchemaAgreement(session);
        return String.valueOf(session.execute(SimpleStatement.newInstance(
                "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", keyspace)).one().getObject("replication"));
    }

    /** Runs every statement of every schema file, in order, inside the (existing) keyspace. */
    public static void apply(CqlSession session, String keyspace) {
        requireValidKeyspace(keyspace);
        CqlIdentifier target = CqlIdentifier.fromInternal(keyspace);
        int count = 0;
        for (String file : files()) {
            for (String cql : statements(read(file))) {
                session.execute(SimpleStatement.newInstance(cql).setKeyspace(target));
                count++;
            }
        }
        awaitSchemaAgreement(session);
        log.info("Applied {} schema statements from {} files to keyspace {}", count, FILES.size(), keyspace);
    }

    /** Throws unless the name is a plain lower case Cassandra identifier. */
    public static String requireValidKeyspace(String keyspace) {
        if (keyspace == null || !KEYSPACE.matcher(keyspace).matches()) {
            throw new IllegalArgumentException("keyspace must match " + KEYSPACE.pattern() + ", was '" + keyspace + "'");
        }
        return keyspace;
    }

    /**
     * Splits a schema file into statements: comment lines ({@code --} or {@code //}) are dropped and
     * the rest is cut at semicolons. Enough for schema files, which hold no semicolons in strings.
     */
    static List<String> statements(String text) {
        StringBuilder code = new StringBuilder();
        for (String line : text.split("\\R")) {
            String trimmed = line.strip();
            if (!trimmed.startsWith("--") && !trimmed.startsWith("//")) {
                code.append(line).append('\n');
            }
        }
        List<String> statements = new ArrayList<>();
        for (String statement : code.toString().split(";")) {
            if (!statement.isBlank()) {
                statements.add(statement.strip());
            }
        }
        return statements;
    }

    private static String read(String resource) {
        try (InputStream in = CassandraSchema.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Schema file " + resource + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + resource, e);
        }
    }

    private static void awaitSchemaAgreement(CqlSession session) {
        // The driver already waits after each DDL; this catches a node that was slow to agree.
        if (!session.checkSchemaAgreement()) {
            log.warn("Cassandra nodes do not agree on the schema yet; later statements may fail until they do");
        }
    }
}
