package io.tidemark.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts NBD servers for a test and stops them after it. Register it with
 * {@code @RegisterExtension final NbdServerExtension servers = new NbdServerExtension();} and
 * call {@link #start}. Which server runs is {@link ServerKind#selected()}. When a test fails,
 * each server's log is printed so the failure report shows what the server saw.
 */
public final class NbdServerExtension implements AfterEachCallback {

    private final ServerKind kind = ServerKind.selected();
    private final List<NbdServer> running = new ArrayList<>();
    private final List<Path> workDirs = new ArrayList<>();

    public ServerKind kind() {
        return kind;
    }

    /** Serves {@code exports} (the first is the default export) on a free TCP port until the test ends. */
    public NbdServer start(Export... exports) {
        return start(false, exports);
    }

    /** Like {@link #start}, with a Unix socket as well (only the Unix socket with nbdkit). */
    public NbdServer startWithUnixSocket(Export... exports) {
        return start(true, exports);
    }

    private NbdServer start(boolean unixSocket, Export... exports) {
        try {
            Path workDir = Files.createTempDirectory("tidemark-it-" + kind.name().toLowerCase() + "-");
            workDirs.add(workDir);
            NbdServer server = NbdServer.start(kind, workDir, List.of(exports), unixSocket);
            running.add(server);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + kind, e);
        }
    }

    /** Stops every server of this test now (SIGTERM, graceful for tidemark), e.g. to inspect the images. */
    public void stopAll() {
        running.forEach(NbdServer::close);
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        List<String> died = new ArrayList<>();
        List<String> stackTraces = new ArrayList<>();
        for (NbdServer server : running) {
            boolean diedDuringTest = server.diedUnexpectedly();
            server.close();
            boolean loggedStackTrace = server.log().lines().anyMatch(line -> line.startsWith("\tat "));
            if (loggedStackTrace) {
                stackTraces.add(server.kind() + " on port " + server.port());
            }
            if (context.getExecutionException().isPresent() || diedDuringTest || loggedStackTrace) {
                System.err.printf("---- %s log (%s, port %d%s) ----%n%s---- end of log ----%n",
                        server.kind(), server.logFile(), server.port(),
                        diedDuringTest ? ", DIED during the test" : "", server.log());
            }
            if (diedDuringTest) {
                died.add(server.kind() + " on port " + server.port());
            }
        }
        running.clear();
        for (Path dir : workDirs) {
            deleteTree(dir);
        }
        workDirs.clear();
        if (context.getExecutionException().isEmpty()) {
            if (!died.isEmpty()) {
                throw new AssertionError("the server died during the test (log printed above): " + died);
            }
            // Clients misbehave on purpose in these tests; the server logs one line per event for that.
            if (!stackTraces.isEmpty()) {
                throw new AssertionError("the server logged a stack trace (log printed above): " + stackTraces);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
