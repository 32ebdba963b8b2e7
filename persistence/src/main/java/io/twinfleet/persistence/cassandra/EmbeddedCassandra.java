package io.twinfleet.persistence.cassandra;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.JarURLConnection;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Cassandra 5.0 node running in a child JVM, for development, demos and tests.
 *
 * <p>There is no Docker on the build machines, and Cassandra's jars must never meet the service's
 * classpath (Guava, Netty and Jackson versions differ). So the node is forked from the jars that
 * the {@code cassandra-runtime} module lists in a resource, with the JDK 17 module flags from
 * Cassandra's own {@code jvm17-server.options}. The child's entry point watches this JVM and stops
 * the node when it disappears, even after {@code kill -9}; {@link #close()} and a shutdown hook
 * stop it earlier and cleanly.
 *
 * <p>Everything the node writes lives under the settings' data directory: {@code cassandra.yaml},
 * {@code cassandra.log} (the child's stdout and stderr), data, commit log, hints and caches.
 */
public final class EmbeddedCassandra implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedCassandra.class);

    public static final String LOCAL_DATACENTER = "datacenter1";
    public static final String LOG_FILE_NAME = "cassandra.log";
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private static final String HOST = "127.0.0.1";
    private static final String MAIN_CLASS = "io.twinfleet.cassandra.ForkedCassandraMain";
    private static final String MAIN_CLASS_RESOURCE = MAIN_CLASS.replace('.', '/') + ".class";
    private static final String CLASSPATH_RESOURCE = "io/twinfleet/cassandra/cassandra.classpath";
    private static final String CHILD_LOGBACK_RESOURCE = "io/twinfleet/cassandra/logback-forked.xml";
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(10);
    private static final int LOG_TAIL_LINES = 40;

    /**
     * The JPMS flags of Cassandra 5.0's {@code conf/jvm17-server.options}, in its order: Cassandra
     * reaches into JDK internals (Unsafe, direct buffers, RMI for JMX) and fails without them.
     */
    private static final List<String> JVM17_MODULE_FLAGS = List.of(
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
            "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
            "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
            "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.base/java.io=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/java.util=ALL-UNNAMED");

    private final Process process;
    private final Path dataDirectory;
    private final int cqlPort;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private EmbeddedCassandra(Process process, Path dataDirectory, int cqlPort) {
        this.process = process;
        this.dataDirectory = dataDirectory;
        this.cqlPort = cqlPort;
        this.shutdownHook = new Thread(this::stop, "embedded-cassandra-shutdown");
    }

    /**
     * Forks the node and returns once it answers CQL queries.
     *
     * @throws IllegalStateException if the port is taken, no JDK 17 is found, or the node dies or
     *                               stays silent past the startup timeout (with the log's tail)
     */
    public static EmbeddedCassandra start(EmbeddedCassandraSettings settings) {
        Path dataDirectory = settings.dataDirectory().toAbsolutePath().normalize();
        if (settings.cqlPort() != 0 && isListening(settings.cqlPort())) {
            throw new IllegalStateException("Something already listens on " + HOST + ":" + settings.cqlPort()
                    + " (another Cassandra?): stop it, or start the embedded node on another port");
        }
        Set<Integer> taken = new HashSet<>();
        int cqlPort = settings.cqlPort() != 0 ? settings.cqlPort() : freePort(taken);
        taken.add(cqlPort);
        int storagePort = settings.storagePortIsAutomatic() ? freePort(taken) : settings.storagePort();
        taken.add(storagePort);
        int jmxPort = freePort(taken);

        Path java = JavaRuntimes.java17();
        String classpath = forkedClasspath();
        Path logFile = dataDirectory.resolve(LOG_FILE_NAME);
        Process process;
        try {
            // Cassandra creates its data directories itself but only complains about this one.
            Files.createDirectories(dataDirectory.resolve("triggers"));
            Path yaml = dataDirectory.resolve("cassandra.yaml");
            Files.writeString(yaml, cassandraYaml(dataDirectory, cqlPort, storagePort));
            List<String> command = command(java, classpath, settings.heap(), yaml, dataDirectory, jmxPort);
            process = new ProcessBuilder(command)
                    .directory(dataDirectory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    // stdin stays a pipe that nobody writes to: the child reads end-of-file
                    // from it when this JVM dies, however it dies.
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not fork Cassandra in " + dataDirectory, e);
        }
        log.info("Forked Cassandra (pid {}) for CQL on {}:{}, storage port {}, data in {}",
                process.pid(), HOST, cqlPort, storagePort, dataDirectory);

        EmbeddedCassandra node = new EmbeddedCassandra(process, dataDirectory, cqlPort);
        Runtime.getRuntime().addShutdownHook(node.shutdownHook);
        try {
            node.awaitCql(settings.startupTimeout());
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        return node;
    }

    /** Where clients connect: 127.0.0.1 and the CQL port. */
    public InetSocketAddress contactPoint() {
        return new InetSocketAddress(HOST, cqlPort);
    }

    public int cqlPort() {
        return cqlPort;
    }

    /** The datacenter name the driver's load balancing policy needs; SimpleSnitch always says this. */
    public String localDatacenter() {
        return LOCAL_DATACENTER;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The process id of the child JVM running Cassandra. */
    public long pid() {
        return process.pid();
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** A session builder aimed at this node only, ignoring contact points from application.conf. */
    public CqlSessionBuilder sessionBuilder() {
        return sessionBuilder(contactPoint(), LOCAL_DATACENTER);
    }

    /** The same, for any single node known by address, e.g. in tests that only hold host and port. */
    public static CqlSessionBuilder sessionBuilder(InetSocketAddress contactPoint, String localDatacenter) {
        DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
                // Set through config, not addContactPoint, so that these replace rather than join
                // whatever contact points an application.conf on the classpath declares.
                .withStringList(DefaultDriverOption.CONTACT_POINTS,
                        List.of(contactPoint.getHostString() + ":" + contactPoint.getPort()))
                .withString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER, localDatacenter)
                // Schema changes on a busy 2-core machine take longer than the 2 s default.
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(20))
                .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(30))
                .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(5))
                // Every DDL statement waits for a schema metadata refresh, which the driver debounces
                // by a second: with one node there is nothing to debounce, and schemas apply 10x faster.
                .withDuration(DefaultDriverOption.METADATA_SCHEMA_WINDOW, Duration.ofMillis(10))
                .build();
        return CqlSession.builder().withConfigLoader(config);
    }

    /**
     * Leaves stopping the node to its owner: no JVM shutdown hook stops it in parallel with the
     * owner's own shutdown (which may still need to write). If the owner never calls
     * {@link #close()}, the node still stops itself when this JVM is gone.
     */
    public EmbeddedCassandra withoutShutdownHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
        return this;
    }

    /** Stops the node cleanly (SIGTERM, so Cassandra drains), forcibly if it takes over a minute. */
    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down and the hook is (or was) running: nothing to undo
        }
    }

    private void stop() {
        if (!closed.compareAndSet(false, true) || !process.isAlive()) {
            return;
        }
        log.info("Stopping Cassandra (pid {})", process.pid());
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                log.warn("Cassandra (pid {}) did not stop within {}s, killing it", process.pid(),
                        STOP_TIMEOUT.toSeconds());
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private void awaitCql(Duration timeout) {
        long startNanos = System.nanoTime();
        long deadline = startNanos + timeout.toNanos();
        long nextProgress = startNanos + PROGRESS_INTERVAL.toNanos();
        RuntimeException lastError = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Cassandra exited with code " + process.exitValue()
                        + " while starting" + logTail());
            }
            // A plain socket probe is cheap; a driver session is only worth trying once it listens.
            if (isListening(cqlPort)) {
                try (CqlSession session = sessionBuilder().build()) {
                    Row row = session.execute("SELECT release_version FROM system.local").one();
                    log.info("Cassandra {} accepts CQL on {}:{} after {}s", row == null ? "?" : row.getString(0),
                            HOST, cqlPort, secondsSince(startNanos));
                    return;
                } catch (RuntimeException e) {
                    lastError = e;
                }
            }
            if (System.nanoTime() >= nextProgress) {
                log.info("waiting for Cassandra CQL on port {}, {}s", cqlPort, secondsSince(startNanos));
                nextProgress += PROGRESS_INTERVAL.toNanos();
            }
            sleep(Duration.ofMillis(500));
        }
        IllegalStateException timedOut = new IllegalStateException("Cassandra did not accept CQL on port "
                + cqlPort + " within " + timeout.toSeconds() + "s" + logTail());
        if (lastError != null) {
            timedOut.addSuppressed(lastError);
        }
        throw timedOut;
    }

    /** The end of cassandra.log, to put the node's own explanation into an exception message. */
    private String logTail() {
        Path logFile = dataDirectory.resolve(LOG_FILE_NAME);
        try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
            // 40 lines of Cassandra's log fit comfortably in the last 16 KB, stack traces aside.
            long start = Math.max(0, file.length() - 16_384);
            byte[] bytes = new byte[(int) (file.length() - start)];
            file.seek(start);
            file.readFully(bytes);
            List<String> lines = Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\\R"));
            List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
            return "; last lines of " + logFile + ":\n" + String.join("\n", tail);
        } catch (IOException e) {
            return "; " + logFile + " could not be read: " + e;
        }
    }

    private static List<String> command(Path java, String classpath, String heap, Path yaml, Path dataDirectory,
            int jmxPort) {
        List<String> command = new ArrayList<>();
        // Its own session, so the Ctrl-C meant for the parent does not reach the node: the parent
        // decides when the node stops (after whatever still needs to write), or the node stops
        // itself when the parent is gone.
        if (Files.isExecutable(SETSID)) {
            command.add(SETSID.toString());
        }
        command.add(java.toString());
        command.add("-Xms" + heap);
        command.add("-Xmx" + heap);
        // GC settings of jvm17-server.options that matter on small heaps.
        command.add("-XX:+UseG1GC");
        command.add("-XX:+ParallelRefProcEnabled");
        command.add("-XX:MaxGCPauseMillis=300");
        // Cassandra's advice: a node out of memory may corrupt data, so it should die, visibly.
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.add("-Djdk.attach.allowAttachSelf=true");
        command.addAll(JVM17_MODULE_FLAGS);
        command.add("-Dio.netty.tryReflectionSetAccessible=true");
        command.add("-Djava.net.preferIPv4Stack=true");
        command.add("-Dcassandra.config=" + yaml.toUri());
        command.add("-Dcassandra-foreground=yes");
        command.add("-Dcassandra.storagedir=" + dataDirectory);
        command.add("-Dcassandra.logdir=" + dataDirectory.resolve("logs"));
        command.add("-Dcassandra.triggers_dir=" + dataDirectory.resolve("triggers"));
        command.add("-Dcassandra.jmx.local.port=" + jmxPort);
        // A single seed node has nobody to gossip with: skip the waits meant for real rings.
        command.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
        command.add("-Dcassandra.ring_delay_ms=1000");
        command.add("-Dcassandra.superuser_setup_delay_ms=0");
        command.add("-Dlogback.configurationFile=" + CHILD_LOGBACK_RESOURCE);
        command.add("-Dtwinfleet.parent.pid=" + ProcessHandle.current().pid());
        command.add("-cp");
        command.add(classpath);
        command.add(MAIN_CLASS);
        return command;
    }

    /** A minimal single-node configuration; every directory stays under the data directory. */
    private static String cassandraYaml(Path dataDirectory, int cqlPort, int storagePort) {
        return """
                # Generated by Twinfleet's EmbeddedCassandra at every start; edits are overwritten.
                cluster_name: twinfleet
                num_tokens: 1
                partitioner: org.apache.cassandra.dht.Murmur3Partitioner
                endpoint_snitch: SimpleSnitch
                data_file_directories:
                  - %s
                commitlog_directory: %s
                saved_caches_directory: %s
                hints_directory: %s
                cdc_raw_directory: %s
                commitlog_sync: periodic
                commitlog_sync_period: 10000ms
                seed_provider:
                  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
                    parameters:
                      - seeds: "127.0.0.1:%d"
                listen_address: 127.0.0.1
                rpc_address: 127.0.0.1
                storage_port: %d
                native_transport_port: %d
                start_native_transport: true
                authenticator:
                  class_name: org.apache.cassandra.auth.AllowAllAuthenticator
                authorizer:
                  class_name: org.apache.cassandra.auth.AllowAllAuthorizer
                # Memtables off the heap keep GC pauses short on a 1 GB heap; one compactor leaves
                # the other cores to the service on a small machine.
                memtable_allocation_type: offheap_objects
                concurrent_compactors: 1
                # A development node: dropping or truncating a table is meant, no snapshot needed.
                auto_snapshot: false
                """.formatted(
                yamlString(dataDirectory.resolve("data")),
                yamlString(dataDirectory.resolve("commitlog")),
                yamlString(dataDirectory.resolve("saved_caches")),
                yamlString(dataDirectory.resolve("hints")),
                yamlString(dataDirectory.resolve("cdc_raw")),
                storagePort, storagePort, cqlPort);
    }

    private static String yamlString(Path path) {
        return "'" + path.toString().replace("'", "''") + "'";
    }

    /**
     * The child's classpath: the jar (or classes directory) holding the entry point, then the
     * Cassandra jars the runtime module recorded at build time. The entry point is located as a
     * resource, never loaded, because Cassandra's classes are not on this JVM's classpath.
     */
    private static String forkedClasspath() {
        ClassLoader loader = EmbeddedCassandra.class.getClassLoader();
        URL mainClass = loader.getResource(MAIN_CLASS_RESOURCE);
        URL listing = loader.getResource(CLASSPATH_RESOURCE);
        if (mainClass == null || listing == null) {
            throw new IllegalStateException("twinfleet-cassandra-runtime is not on the classpath (no "
                    + (mainClass == null ? MAIN_CLASS_RESOURCE : CLASSPATH_RESOURCE) + ")");
        }
        List<String> entries = new ArrayList<>();
        entries.add(classpathRoot(mainClass).toString());
        String recorded;
        try (InputStream in = listing.openStream()) {
            recorded = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + listing, e);
        }
        List<String> missing = new ArrayList<>();
        for (String entry : recorded.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            entries.add(entry.trim());
            if (!Files.exists(Path.of(entry.trim()))) {
                missing.add(entry.trim());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missing.size() + " of the Cassandra jars recorded at build time are"
                    + " missing (first: " + missing.get(0) + "); rebuild with"
                    + " `mvn install -pl cassandra-runtime` on this machine");
        }
        return String.join(File.pathSeparator, entries);
    }

    private static Path classpathRoot(URL resource) {
        try {
            if ("jar".equals(resource.getProtocol())) {
                JarURLConnection connection = (JarURLConnection) resource.openConnection();
                return Path.of(connection.getJarFileURL().toURI());
            }
            Path file = Path.of(resource.toURI());
            // Walk up from io/twinfleet/cassandra/ForkedCassandraMain.class to the classes directory.
            int depth = MAIN_CLASS_RESOURCE.split("/").length;
            for (int i = 0; i < depth; i++) {
                file = file.getParent();
            }
            return file;
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("Cannot locate the jar of " + resource, e);
        }
    }

    private static boolean isListening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort(Set<Integer> taken) {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                int port = socket.getLocalPort();
                if (!taken.contains(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Could not find a free port on " + HOST, e);
            }
        }
        throw new IllegalStateException("Could not find a free port on " + HOST);
    }

    private static long secondsSince(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos).toSeconds();
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for Cassandra", e);
        }
    }
}
