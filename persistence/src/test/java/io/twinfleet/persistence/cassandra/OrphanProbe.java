package io.twinfleet.persistence.cassandra;

import java.nio.file.Path;

/**
 * A stand-in for a service JVM that {@link EmbeddedCassandraOrphanTest} kills with SIGKILL: it
 * starts a node, reports the node's pid on stdout, and waits to be killed.
 */
public final class OrphanProbe {

    static final String PID_PREFIX = "cassandra-pid=";

    private OrphanProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedCassandra cassandra = EmbeddedCassandra.start(EmbeddedCassandraSettings.onFreePorts(Path.of(args[0])));
        System.out.println(PID_PREFIX + cassandra.pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
