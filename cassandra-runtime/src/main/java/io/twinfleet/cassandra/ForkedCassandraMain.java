package io.twinfleet.cassandra;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Optional;

import org.apache.cassandra.service.CassandraDaemon;

/**
 * Entry point of the Cassandra node that {@code EmbeddedCassandra} forks as a child JVM.
 *
 * <p>It exists so that the node never outlives the JVM that launched it: a test run, a demo or a
 * service killed with {@code kill -9} cannot run its shutdown hooks, and a stray Cassandra would
 * then keep its ports, its data directory and 1.5 GB of memory. Before handing over to
 * {@link CassandraDaemon}, it starts a watchdog that notices the parent is gone, either because
 * the parent's process id disappears or because the stdin pipe that the launcher holds open
 * reaches end-of-file, and then exits through {@link System#exit} so that Cassandra's own
 * shutdown hook drains the node cleanly.
 */
public final class ForkedCassandraMain {

    /** System property holding the pid of the launching JVM; absent when started by hand. */
    public static final String PARENT_PID_PROPERTY = "twinfleet.parent.pid";

    private static final Duration POLL_INTERVAL = Duration.ofSeconds(1);
    /** How long Cassandra's shutdown hook may take before the process is halted regardless. */
    private static final Duration HALT_AFTER = Duration.ofSeconds(30);

    private ForkedCassandraMain() {
    }

    public static void main(String[] args) {
        String parentPid = System.getProperty(PARENT_PID_PROPERTY);
        if (parentPid != null && !parentPid.isBlank()) {
            long pid = Long.parseLong(parentPid.trim());
            daemon("twinfleet-parent-pid-watch", () -> watchParentPid(pid)).start();
            // Only a launcher keeps stdin open; started by hand, stdin may well be /dev/null.
            daemon("twinfleet-parent-stdin-watch", ForkedCassandraMain::watchStdin).start();
        }
        CassandraDaemon.main(args);
    }

    private static void watchParentPid(long pid) {
        Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        while (parent.isPresent() && parent.get().isAlive()) {
            sleep(POLL_INTERVAL);
        }
        exitBecause("parent process " + pid + " is gone");
    }

    private static void watchStdin() {
        InputStream in = System.in;
        byte[] buffer = new byte[256];
        try {
            // The launcher never writes; anything read is ignored, end-of-file means the pipe's
            // other end was closed, which the kernel does when the parent dies.
            while (in.read(buffer) >= 0) {
                // keep reading
            }
        } catch (IOException e) {
            // a broken pipe means the same as end-of-file
        }
        exitBecause("stdin closed by the parent process");
    }

    private static synchronized void exitBecause(String reason) {
        System.err.println("twinfleet: " + reason + ", stopping Cassandra");
        // System.exit blocks while shutdown hooks run; the halt thread bounds a stuck drain.
        daemon("twinfleet-halt", () -> {
            sleep(HALT_AFTER);
            System.err.println("twinfleet: Cassandra did not stop within " + HALT_AFTER + ", halting");
            Runtime.getRuntime().halt(1);
        }).start();
        System.exit(0);
    }

    private static Thread daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
