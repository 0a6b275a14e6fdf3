package io.tidemark.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which NBD server the end-to-end tests run against. The default, and what CI runs, is
 * tidemark; {@code -Dit.server=nbdkit} runs the same tests against nbdkit's file plugin
 * as a reference, which is how the tests themselves are validated.
 */
public enum ServerKind {

    TIDEMARK {
        @Override
        List<String> command(Endpoints endpoints, List<Export> exports, Path workDir) throws IOException {
            List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:" + endpoints.port()));
            // The control API and state directory arrive with the threshold work; until this build's
            // serve has them, passing them would be a usage error. Once it has them, tests must not
            // share the default control port or state directory, so they always get their own.
            String help = ServeHelp.text();
            if (help.contains("--control")) {
                args.addAll(List.of("--control", "127.0.0.1:" + endpoints.controlPort()));
            }
            if (help.contains("--state-dir")) {
                args.addAll(List.of("--state-dir", workDir.resolve("state").toString()));
            }
            if (endpoints.unixSocket() != null) {
                args.add("--unix");
                args.add(endpoints.unixSocket().toString());
            }
            for (Export export : exports) {
                args.add("--export");
                args.add(export.tidemarkOption());
            }
            return TidemarkProcess.command(args.toArray(String[]::new));
        }
    },

    /**
     * nbdkit serving a directory of symlinks, one per export, so that several exports,
     * a default export, descriptions and block-size constraints look like tidemark's.
     */
    NBDKIT {
        @Override
        List<String> command(Endpoints endpoints, List<Export> exports, Path workDir) throws IOException {
            boolean readOnly = exports.getFirst().readOnly();
            if (exports.stream().anyMatch(e -> e.readOnly() != readOnly)) {
                throw new IllegalArgumentException(
                        "the nbdkit stand-in cannot mix read-only and writable exports in one server: " + exports);
            }
            Path dir = Files.createDirectories(workDir.resolve("exports"));
            for (Export export : exports) {
                Files.createSymbolicLink(dir.resolve(export.name()), export.image().toAbsolutePath());
            }
            List<String> command = new ArrayList<>(List.of(
                    Client.resolve("nbdkit").toString(), "--foreground", "--exit-with-parent"));
            // nbdkit listens on TCP or on a Unix socket, not both.
            if (endpoints.unixSocket() != null) {
                command.addAll(List.of("--unix", endpoints.unixSocket().toString()));
            } else {
                command.addAll(List.of("--ipaddr", "127.0.0.1", "--port", Integer.toString(endpoints.port())));
            }
            if (readOnly) {
                command.add("--readonly");
            }
            command.addAll(List.of(
                    "--filter=exportname", "--filter=blocksize-policy",
                    "file", "dir=" + dir,
                    "default-export=" + exports.getFirst().name(),
                    "exportdesc=script:printf %s \"raw image $name\"",
                    "blocksize-minimum=1", "blocksize-preferred=4096", "blocksize-maximum=32M",
                    "blocksize-error-policy=error"));
            return command;
        }
    };

    /** {@code tidemark serve --help}, read once per test run. */
    private static final class ServeHelp {
        private static String text;

        static synchronized String text() throws IOException {
            if (text == null) {
                try {
                    TidemarkProcess.Result result = TidemarkProcess.run("serve", "--help");
                    if (result.exitCode() != 0) {
                        throw new IllegalStateException("tidemark serve --help failed: " + result.stderr());
                    }
                    text = result.stdout();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
            return text;
        }
    }

    /** nbdkit listens on a Unix socket instead of TCP; tidemark on both. */
    boolean listensOnTcp(Endpoints endpoints) {
        return this == TIDEMARK || endpoints.unixSocket() == null;
    }

    /** Where a server listens: NBD and control ports on 127.0.0.1, and a Unix socket when not null. */
    record Endpoints(int port, int controlPort, Path unixSocket) {
    }

    /** The command line that serves {@code exports} at {@code endpoints}; the first export is the default. */
    abstract List<String> command(Endpoints endpoints, List<Export> exports, Path workDir) throws IOException;

    /** The server chosen with {@code -Dit.server=tidemark|nbdkit}; tidemark when unset. */
    public static ServerKind selected() {
        String value = System.getProperty("it.server", "tidemark").trim();
        if (value.isEmpty()) {
            return TIDEMARK;
        }
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("it.server must be tidemark or nbdkit, not '" + value + "'", e);
        }
    }
}
