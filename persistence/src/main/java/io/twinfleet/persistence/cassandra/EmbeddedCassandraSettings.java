package io.twinfleet.persistence.cassandra;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to start an {@link EmbeddedCassandra} node: where its data lives, which ports it binds, how
 * much heap it gets and how long it may take to accept CQL.
 *
 * <p>A port of 0 means "pick a free one", which is what tests want. When the CQL port is 0 and the
 * storage port is left at its default, the storage port is picked freely too, so that an automatic
 * node never collides with a developer's node on 7000.
 *
 * @param dataDirectory  root of everything the node writes: data, commit log, yaml and cassandra.log
 * @param cqlPort        native transport (CQL) port on 127.0.0.1; 0 = a free port
 * @param storagePort    internode port on 127.0.0.1; 0 = a free port
 * @param heap           JVM heap of the node (-Xms and -Xmx), e.g. "1g" or "1536m"
 * @param startupTimeout how long {@link EmbeddedCassandra#start} waits for CQL before giving up
 */
public record EmbeddedCassandraSettings(
        Path dataDirectory, int cqlPort, int storagePort, String heap, Duration startupTimeout) {

    public static final Path DEFAULT_DATA_DIRECTORY = Path.of(".twinfleet", "cassandra");
    public static final int DEFAULT_CQL_PORT = 9042;
    public static final int DEFAULT_STORAGE_PORT = 7000;
    public static final String DEFAULT_HEAP = "1g";
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(180);

    private static final Pattern HEAP = Pattern.compile("[1-9][0-9]*[kKmMgG]");

    public EmbeddedCassandraSettings {
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        Objects.requireNonNull(heap, "heap");
        Objects.requireNonNull(startupTimeout, "startupTimeout");
        requirePort("cqlPort", cqlPort);
        requirePort("storagePort", storagePort);
        if (cqlPort != 0 && cqlPort == storagePort) {
            throw new IllegalArgumentException("cqlPort and storagePort must differ, both are " + cqlPort);
        }
        if (!HEAP.matcher(heap).matches()) {
            throw new IllegalArgumentException("heap must look like 1g or 1536m, was '" + heap + "'");
        }
        if (startupTimeout.isNegative() || startupTimeout.isZero()) {
            throw new IllegalArgumentException("startupTimeout must be positive, was " + startupTimeout);
        }
    }

    /** A node on the standard ports with its data under {@code .twinfleet/cassandra}. */
    public static EmbeddedCassandraSettings defaults() {
        return new EmbeddedCassandraSettings(DEFAULT_DATA_DIRECTORY, DEFAULT_CQL_PORT, DEFAULT_STORAGE_PORT,
                DEFAULT_HEAP, DEFAULT_STARTUP_TIMEOUT);
    }

    /** A throw-away node on free ports, as tests use it. */
    public static EmbeddedCassandraSettings onFreePorts(Path dataDirectory) {
        return defaults().withDataDirectory(dataDirectory).withCqlPort(0).withStoragePort(0);
    }

    public EmbeddedCassandraSettings withDataDirectory(Path value) {
        return new EmbeddedCassandraSettings(value, cqlPort, storagePort, heap, startupTimeout);
    }

    public EmbeddedCassandraSettings withCqlPort(int value) {
        return new EmbeddedCassandraSettings(dataDirectory, value, storagePort, heap, startupTimeout);
    }

    public EmbeddedCassandraSettings withStoragePort(int value) {
        return new EmbeddedCassandraSettings(dataDirectory, cqlPort, value, heap, startupTimeout);
    }

    public EmbeddedCassandraSettings withHeap(String value) {
        return new EmbeddedCassandraSettings(dataDirectory, cqlPort, storagePort, value, startupTimeout);
    }

    public EmbeddedCassandraSettings withStartupTimeout(Duration value) {
        return new EmbeddedCassandraSettings(dataDirectory, cqlPort, storagePort, heap, value);
    }

    /** Whether the storage port is chosen at start rather than taken from {@link #storagePort()}. */
    boolean storagePortIsAutomatic() {
        return storagePort == 0 || (cqlPort == 0 && storagePort == DEFAULT_STORAGE_PORT);
    }

    private static void requirePort(String name, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " must be 0 (free port) or 1-65535, was " + port);
        }
    }
}
