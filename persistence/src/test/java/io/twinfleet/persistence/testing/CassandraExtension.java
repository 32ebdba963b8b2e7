package io.twinfleet.persistence.testing;

import io.twinfleet.persistence.Directories;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;

import com.datastax.oss.driver.api.core.CqlSession;
import io.twinfleet.persistence.cassandra.CassandraSchema;
import io.twinfleet.persistence.cassandra.EmbeddedCassandra;
import io.twinfleet.persistence.cassandra.EmbeddedCassandraSettings;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives a test class a real Cassandra keyspace with Twinfleet's schema.
 *
 * <p>Starting Cassandra costs about half a minute, so one node serves the whole test JVM: it is
 * forked on free ports when the first class needs it (data under {@code target/cassandra-test-*})
 * and stopped when the JVM ends. Isolation comes from a fresh keyspace per test class, named
 * after the class. Test engines other than JUnit Jupiter (jqwik) call {@link #keyspaceFor}. Use it as
 *
 * <pre>{@code
 * @ExtendWith(CassandraExtension.class)
 * class DeviceRepositoryIT {
 *     @BeforeAll
 *     static void init(TestKeyspace keyspace) { ... keyspace.session() ... }
 * }
 * }</pre>
 *
 * or take {@link TestKeyspace} as a parameter of a test method or constructor.
 */
public final class CassandraExtension implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(CassandraExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NAMESPACE).getOrComputeIfAbsent(TestKeyspace.class,
                key -> keyspaceFor(context.getRequiredTestClass()), TestKeyspace.class);
    }

    /** A fresh keyspace with Twinfleet's schema for {@code testClass}, on the JVM's node; the caller closes it. */
    public static TestKeyspace keyspaceFor(Class<?> testClass) {
        return createKeyspace(SharedNode.get(), testClass);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestKeyspace.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        // Stored by beforeAll on the class context; method contexts find it through their parent.
        TestKeyspace keyspace = context.getStore(NAMESPACE).get(TestKeyspace.class, TestKeyspace.class);
        if (keyspace == null) {
            throw new ParameterResolutionException("No TestKeyspace for " + context.getDisplayName()
                    + ": register CassandraExtension on the test class with @ExtendWith");
        }
        return keyspace;
    }

    private static TestKeyspace createKeyspace(EmbeddedCassandra node, Class<?> testClass) {
        String base = testClass.getSimpleName().toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9_]", "_");
        if (!base.matches("[a-z].*")) {
            base = "t_" + base;
        }
        // Keyspace names start with a letter and stop at 48 characters; the suffix keeps runs apart.
        String name = base.substring(0, Math.min(40, base.length())) + "_"
                + UUID.randomUUID().toString().substring(0, 6);
        try (CqlSession session = node.sessionBuilder().build()) {
            CassandraSchema.createKeyspace(session, name);
            CassandraSchema.apply(session, name);
        }
        return new TestKeyspace(node.contactPoint().getHostString(), node.cqlPort(), node.localDatacenter(), name);
    }

    /**
     * The JVM's node, started by the first class that needs one whatever its test engine, and
     * stopped with its throw-away data directory when the JVM ends (every engine has run by then).
     */
    private static final class SharedNode {

        private static EmbeddedCassandra node;

        static synchronized EmbeddedCassandra get() {
            if (node == null) {
                // Surefire runs tests in the module's directory, so this lands in its target/.
                Path dataDirectory = Path.of("target", "cassandra-test-" + UUID.randomUUID().toString().substring(0, 8));
                EmbeddedCassandra started = EmbeddedCassandra.start(EmbeddedCassandraSettings.onFreePorts(dataDirectory));
                Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(started), "test-cassandra-stop"));
                node = started;
            }
            return node;
        }

        private static void stop(EmbeddedCassandra cassandra) {
            try {
                cassandra.close();
                if (!cassandra.isRunning()) {
                    Directories.deleteRecursively(cassandra.dataDirectory());
                }
            } catch (IOException | RuntimeException e) {
                System.err.println("Could not stop the test Cassandra node: " + e);
            }
        }
    }
}
