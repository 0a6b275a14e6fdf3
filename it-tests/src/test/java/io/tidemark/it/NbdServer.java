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
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
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
    private final ServerKind.Endpoints endpoints;
    private final Path log;
    private final Process process;
    private volatile boolean stopRequested;

    private NbdServer(ServerKind kind, List<Export> exports, ServerKind.Endpoints endpoints, Path log,
            Process process) {
        this.kind = kind;
        this.exports = exports;
        this.endpoints = endpoints;
        this.log = log;
        this.process = process;
    }

    /**
     * Starts {@code kind} serving {@code exports} (the first is the default) on a free TCP port, and
     * also on a Unix socket in {@code workDir} when {@code unixSocket} is set; waits until it answers.
     */
    public static NbdServer start(ServerKind kind, Path workDir, List<Export> exports, boolean unixSocket)
            throws IOException {
        if (exports.isEmpty()) {
            throw new IllegalArgumentException("a server needs at least one export");
        }
        ServerKind.Endpoints endpoints = new ServerKind.Endpoints(freePort(), freePort(),
                unixSocket ? workDir.resolve("nbd.sock") : null);
        Path log = workDir.resolve("server.log");
        List<String> command = kind.command(endpoints, exports, workDir);
        Files.writeString(log, "$ " + String.join(" ", command) + System.lineSeparator());
        Process process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        NbdServer server = new NbdServer(kind, List.copyOf(exports), endpoints, log, process);
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
        return endpoints.port();
    }

    /** {@code nbd://127.0.0.1:PORT/NAME}, the URI every libnbd and QEMU tool accepts. */
    public String uri(String exportName) {
        return "nbd://127.0.0.1:" + port() + "/" + exportName;
    }

    /** {@code nbd+unix:///NAME?socket=PATH}, for a server started with a Unix socket. */
    public String unixUri(String exportName) {
        if (endpoints.unixSocket() == null) {
            throw new IllegalStateException("this server was started without a Unix socket");
        }
        return "nbd+unix:///" + exportName + "?socket=" + endpoints.unixSocket();
    }

    /** The URI of the first export. */
    public String uri() {
        return uri(exports.getFirst().name());
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** True when the process ended although nobody asked it to stop: a crash. */
    public boolean diedUnexpectedly() {
        return !stopRequested && !process.isAlive();
    }

    public long pid() {
        return process.pid();
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

    /** Sends SIGTERM (a graceful shutdown for tidemark) and reports whether the process exited within {@code timeout}. */
    public boolean terminate(Duration timeout) throws InterruptedException {
        stopRequested = true;
        process.destroy();
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGKILL: the process gets no chance to flush or close anything, as in a crash. */
    public void kill() throws InterruptedException {
        stopRequested = true;
        process.destroyForcibly().waitFor(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL if it lingers. */
    @Override
    public void close() {
        try {
            if (!terminate(SHUTDOWN_TIMEOUT)) {
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
        throw new IllegalStateException(kind + " did not answer an NBD handshake at " + endpoints + " within "
                + STARTUP_TIMEOUT.toSeconds() + " s (last error: " + last + "); its log:\n" + log());
    }

    /** Probes the Unix socket when there is one, and TCP when the server listens there too. */
    private void probe() throws IOException {
        if (endpoints.unixSocket() != null) {
            try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(endpoints.unixSocket()))) {
                // A Unix socket channel has no read timeout: closing it unblocks a read that hangs.
                Thread watchdog = Thread.ofVirtual().start(() -> closeAfterTimeout(channel));
                try {
                    probe(new DataInputStream(Channels.newInputStream(channel)),
                            new DataOutputStream(Channels.newOutputStream(channel)));
                } finally {
                    watchdog.interrupt();
                }
            }
            if (!kind.listensOnTcp(endpoints)) {
                return;
            }
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port()), PROBE_TIMEOUT_MILLIS);
            socket.setSoTimeout(PROBE_TIMEOUT_MILLIS);
            probe(new DataInputStream(socket.getInputStream()), new DataOutputStream(socket.getOutputStream()));
        }
    }

    private void probe(DataInputStream in, DataOutputStream out) throws IOException {
        if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
            throw new IllegalStateException(kind + " at " + endpoints + " did not send a newstyle greeting");
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

    private static void closeAfterTimeout(SocketChannel channel) {
        try {
            Thread.sleep(PROBE_TIMEOUT_MILLIS);
            channel.close();
        } catch (InterruptedException | IOException probeFinishedOrChannelGone) {
            // nothing to do
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
