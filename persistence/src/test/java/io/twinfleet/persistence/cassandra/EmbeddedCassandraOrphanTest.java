package io.twinfleet.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * A node whose parent JVM dies without running shutdown hooks ({@code kill -9}) must stop by
 * itself. Ordered first (see the surefire configuration) so that its node never runs next to the
 * shared node of {@code CassandraExtension}.
 */
@Order(1)
class EmbeddedCassandraOrphanTest {

    private static final Duration PROBE_STARTUP = Duration.ofSeconds(240);
    private static final Duration ORPHAN_STOP = Duration.ofSeconds(60);

    @Test
    void cassandraStopsWhenItsParentJvmIsKilled() throws Exception {
        Path dataDirectory = Path.of("target", "cassandra-orphan-" + UUID.randomUUID().toString().substring(0, 8));
        Process parent = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                OrphanProbe.class.getName(), dataDirectory.toString())
                .redirectErrorStream(true)
                .start();
        Optional<ProcessHandle> child = Optional.empty();
        try {
            long childPid = readChildPid(parent).get(PROBE_STARTUP.toSeconds(), TimeUnit.SECONDS);
            child = ProcessHandle.of(childPid);
            assertTrue(child.isPresent() && child.get().isAlive(), "Cassandra child " + childPid + " is running");

            parent.destroyForcibly().waitFor();

            assertTrue(awaitGone(child.get(), ORPHAN_STOP),
                    "Cassandra child " + childPid + " still runs " + ORPHAN_STOP.toSeconds() + "s after its parent died");
            String log = Files.readString(dataDirectory.resolve(EmbeddedCassandra.LOG_FILE_NAME));
            assertTrue(log.contains("twinfleet: ") && log.contains("stopping Cassandra"),
                    "the child's watchdog, not the halt fallback, stopped it");
            assertFalse(log.contains("twinfleet: Cassandra did not stop"), "Cassandra drained within the halt deadline");
        } finally {
            parent.destroyForcibly();
            child.ifPresent(ProcessHandle::destroyForcibly);
            child.ifPresent(handle -> awaitGone(handle, Duration.ofSeconds(10)));
            deleteQuietly(dataDirectory);
        }
    }

    /** The probe's stdout, read on another thread until the pid line; all of it on failure. */
    private static CompletableFuture<Long> readChildPid(Process parent) {
        return CompletableFuture.supplyAsync(() -> {
            StringBuilder output = new StringBuilder();
            // Not closed: the pipe dies with the probe, and the drain below keeps reading it.
            BufferedReader reader = new BufferedReader(
                    new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
            try {
                String line;
                while ((line = reader.readLine()) != null) {
                    if (line.startsWith(OrphanProbe.PID_PREFIX)) {
                        long pid = Long.parseLong(line.substring(OrphanProbe.PID_PREFIX.length()).trim());
                        // Keep draining so the probe never blocks on a full pipe.
                        Thread drain = new Thread(() -> {
                            try {
                                reader.lines().forEach(ignored -> { });
                            } catch (RuntimeException e) {
                                // the probe is gone
                            }
                        });
                        drain.setDaemon(true);
                        drain.start();
                        return pid;
                    }
                    output.append(line).append('\n');
                }
            } catch (IOException | RuntimeException e) {
                output.append(e);
            }
            throw new IllegalStateException("The probe JVM ended without reporting a pid:\n" + output);
        });
    }

    private static boolean awaitGone(ProcessHandle process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !process.isAlive();
    }

    private static void deleteQuietly(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a leftover directory under target/ is harmless
        }
    }
}
