package io.twinfleet.persistence.cassandra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds the {@code java} executable of a JDK 17 for the forked Cassandra node.
 *
 * <p>Cassandra 5.0 supports JDK 11 and 17 only; on a newer JDK it fails in obscure ways. The
 * running JVM is used when it is a 17; otherwise {@code JAVA17_HOME}, then the JDKs installed
 * under {@code /usr/lib/jvm}, are searched for one whose {@code release} file says 17.
 */
final class JavaRuntimes {

    static final String JAVA17_HOME_ENV = "JAVA17_HOME";
    private static final Path SYSTEM_JVMS = Path.of("/usr/lib/jvm");

    private JavaRuntimes() {
    }

    static Path java17() {
        if (Runtime.version().feature() == 17) {
            return javaIn(Path.of(System.getProperty("java.home")));
        }
        List<Path> candidates = new ArrayList<>();
        Optional.ofNullable(System.getenv(JAVA17_HOME_ENV)).filter(s -> !s.isBlank()).map(Path::of)
                .ifPresent(candidates::add);
        if (Files.isDirectory(SYSTEM_JVMS)) {
            try (Stream<Path> homes = Files.list(SYSTEM_JVMS)) {
                homes.sorted().forEach(candidates::add);
            } catch (IOException e) {
                // an unreadable /usr/lib/jvm is the same as none
            }
        }
        return candidates.stream()
                .filter(JavaRuntimes::isJdk17)
                .map(JavaRuntimes::javaIn)
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("Cassandra 5.0 needs a JDK 17, but this JVM is "
                        + Runtime.version() + " and no JDK 17 was found in $" + JAVA17_HOME_ENV + " or under "
                        + SYSTEM_JVMS + "; install one or point " + JAVA17_HOME_ENV + " at it"));
    }

    private static boolean isJdk17(Path home) {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return false;
        }
        try {
            return Files.readAllLines(release).stream()
                    .anyMatch(line -> line.startsWith("JAVA_VERSION=\"17"));
        } catch (IOException e) {
            return false;
        }
    }

    private static Path javaIn(Path home) {
        return home.resolve("bin").resolve("java");
    }
}
