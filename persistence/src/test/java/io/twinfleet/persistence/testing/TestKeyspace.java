package io.twinfleet.persistence.testing;

import java.net.InetSocketAddress;

import com.datastax.oss.driver.api.core.CqlSession;
import io.twinfleet.persistence.cassandra.EmbeddedCassandra;

/**
 * A keyspace with Twinfleet's schema, created by {@link CassandraExtension} for one test class,
 * on the test JVM's shared Cassandra node.
 *
 * <p>Tests take from it what their code under test needs: host, port and datacenter for their own
 * driver or Pekko configuration ({@link #pekkoConfig()}), or a ready {@link #session()}.
 */
public final class TestKeyspace implements AutoCloseable {

    private final String host;
    private final int port;
    private final String localDatacenter;
    private final String keyspace;
    private CqlSession session;

    TestKeyspace(String host, int port, String localDatacenter, String keyspace) {
        this.host = host;
        this.port = port;
        this.localDatacenter = localDatacenter;
        this.keyspace = keyspace;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String localDatacenter() {
        return localDatacenter;
    }

    public String keyspace() {
        return keyspace;
    }

    public InetSocketAddress contactPoint() {
        return new InetSocketAddress(host, port);
    }

    /** A session logged into this keyspace, opened on first use and closed after the test class. */
    public synchronized CqlSession session() {
        if (session == null) {
            session = EmbeddedCassandra.sessionBuilder(contactPoint(), localDatacenter)
                    .withKeyspace(keyspace)
                    .build();
        }
        return session;
    }

    /**
     * HOCON that points the Pekko Cassandra plugins (journal, snapshots, projection offsets) at this
     * node and keyspace, with auto-creation off because the schema is already applied. Parse it
     * with {@code ConfigFactory.parseString(...)} and put it in front of the test's config.
     */
    public String pekkoConfig() {
        return """
                datastax-java-driver.basic.contact-points = ["%s:%d"]
                datastax-java-driver.basic.load-balancing-policy.local-datacenter = "%s"
                pekko.persistence.cassandra.journal.keyspace = "%s"
                pekko.persistence.cassandra.journal.keyspace-autocreate = false
                pekko.persistence.cassandra.journal.tables-autocreate = false
                pekko.persistence.cassandra.snapshot.keyspace = "%s"
                pekko.persistence.cassandra.snapshot.keyspace-autocreate = false
                pekko.persistence.cassandra.snapshot.tables-autocreate = false
                pekko.projection.cassandra.offset-store.keyspace = "%s"
                """.formatted(host, port, localDatacenter, keyspace, keyspace, keyspace);
    }

    @Override
    public synchronized void close() {
        if (session != null) {
            session.close();
            session = null;
        }
    }

    @Override
    public String toString() {
        return "TestKeyspace[" + keyspace + " on " + host + ":" + port + "]";
    }
}
