package io.tidemark.it;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An NBD server under test running as its own process on a free loopback port. It is ready
 * when it completes the start of a real handshake; its combined output goes to a log file
 * that tests print when they fail.
 */
public final class NbdServer implements AutoCloseable {

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(15);
    private static final int PROBE_TIMEOUT_MILLIS = 2000;
    private static final long NBDMAGIC = 0x4e42444d41474943L;
    private static final long IHAVEOPT = 0x49484156454f5054L;
    private static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    private static final int NBD_OPT_ABORT = 2;
    private static final int CLIENT_FLAGS_FIXED_NEWSTYLE_NO_ZEROES = 0b11;

    private final ServerKind kind;
    private final List<Export> exports;
    private final int port;
    private final Path log;
    private final Process process;

    private NbdServer(ServerKind kind, List<Export> exports, int port, Path log, Process process) {
        this.kind = kind;
        this.exports = exports;
        this.port = port;
        this.log = log;
        this.process = process;
    }

    /** Starts {@code kind} serving {@code exports} (the first is the default) and waits until it answers. */
    public static NbdServer start(ServerKind kind, Path workDir, List<Export> exports) throws IOException {
        if (exports.isEmpty()) {
            throw new IllegalArgumentException("a server needs at least one export");
        }
        int port = freePort();
        Path log = workDir.resolve("server.log");
        List<String> command = kind.command(port, freePort(), exports, workDir);
        Files.writeString(log, "$ " + String.join(" ", command) + System.lineSeparator());
        Process process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        NbdServer server = new NbdServer(kind, List.copyOf(exports), port, log, process);
        try {
            server.awaitHandshake();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public ServerKind kind() {
        return kind;
    }

    public List<Export> exports() {
        return exports;
    }

    public int port() {
        return port;
    }

    /** {@code nbd://127.0.0.1:PORT/NAME}, the URI every libnbd and QEMU tool accepts. */
    public String uri(String exportName) {
        return "nbd://127.0.0.1:" + port + "/" + exportName;
    }

    /** The URI of the first export. */
    public String uri() {
        return uri(exports.getFirst().name());
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path logFile() {
        return log;
    }

    /** SIGTERM (tidemark shuts down gracefully on it), then SIGKILL if it lingers. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Polls until the server sends the newstyle greeting and acknowledges NBD_OPT_ABORT: a plain
     * TCP connect would succeed before the server is able to answer, and would leave a half
     * handshake in its log.
     */
    private void awaitHandshake() throws IOException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(kind + " exited with status " + process.exitValue()
                        + " before accepting connections; its log:\n" + log());
            }
            try {
                probe();
                return;
            } catch (IOException e) {
                last = e;
            }
            sleep(Duration.ofMillis(100));
        }
        throw new IllegalStateException(kind + " did not answer an NBD handshake on port " + port + " within "
                + STARTUP_TIMEOUT.toSeconds() + " s (last error: " + last + "); its log:\n" + log());
    }

    private void probe() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), PROBE_TIMEOUT_MILLIS);
            socket.setSoTimeout(PROBE_TIMEOUT_MILLIS);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
                throw new IllegalStateException(kind + " on port " + port + " did not send a newstyle greeting");
            }
            in.readUnsignedShort();
            out.writeInt(CLIENT_FLAGS_FIXED_NEWSTYLE_NO_ZEROES);
            out.writeLong(IHAVEOPT);
            out.writeInt(NBD_OPT_ABORT);
            out.writeInt(0);
            out.flush();
            // The spec lets a server close instead of acknowledging ABORT; either ends the probe.
            try {
                if (in.readLong() != OPTION_REPLY_MAGIC) {
                    throw new IllegalStateException(kind + " answered NBD_OPT_ABORT without the option reply magic");
                }
            } catch (EOFException closedInsteadOfAck) {
                // fine: the server is up
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the server", e);
        }
    }
}
