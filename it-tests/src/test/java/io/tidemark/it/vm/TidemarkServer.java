package io.tidemark.it.vm;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code tidemark serve} as a process on free loopback ports, with the options the VM scenarios
 * need (exports with threshold and quota, the control API, a webhook). Its output goes to
 * {@code target/vm-logs/<name>.server.log}, next to the guest's console.
 */
final class TidemarkServer implements AutoCloseable {

    private static final long NBD_MAGIC = 0x4e42444d41474943L;
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final int PROBE_TIMEOUT_MILLIS = 2000;

    private final Process process;
    private final int port;
    private final int controlPort;
    private final Path log;

    private TidemarkServer(Process process, int port, int controlPort, Path log) {
        this.process = process;
        this.port = port;
        this.controlPort = controlPort;
        this.log = log;
    }

    /** Collects the command line of one server. */
    static final class Options {
        private final String name;
        private final Path workDir;
        private final List<String> exports = new ArrayList<>();
        private final List<String> extra = new ArrayList<>();
        private boolean control;

        private Options(String name, Path workDir) {
            this.name = name;
            this.workDir = workDir;
        }

        /** {@code --export NAME=PATH[,OPTION…]}, e.g. {@code quota=256M}. */
        Options export(String exportName, Path image, String... options) {
            StringBuilder value = new StringBuilder(exportName).append('=').append(image.toAbsolutePath());
            for (String option : options) {
                value.append(',').append(option);
            }
            exports.add(value.toString());
            return this;
        }

        /** The control API on a free port, its state in the work directory. */
        Options control() {
            control = true;
            return this;
        }

        Options webhook(URI uri) {
            extra.addAll(List.of("--webhook", uri.toString()));
            return this;
        }

        TidemarkServer start() throws IOException, InterruptedException {
            int port = freePort();
            int controlPort = control ? freePort() : -1;
            List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:" + port));
            exports.forEach(e -> args.addAll(List.of("--export", e)));
            if (control) {
                args.addAll(List.of("--control", "127.0.0.1:" + controlPort,
                        "--state-dir", workDir.resolve("state").toString()));
            } else {
                // Never the default 127.0.0.1:10810: tests run side by side.
                args.addAll(List.of("--control", "off"));
            }
            args.addAll(extra);
            Path log = Guest.logFile(name + ".server.log");
            List<String> command = TidemarkCli.command(args);
            Files.writeString(log, "$ " + String.join(" ", command) + "\n");
            Process process = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            TidemarkServer server = new TidemarkServer(process, port, controlPort, log);
            try {
                server.awaitReady();
            } catch (RuntimeException | IOException | InterruptedException e) {
                server.close();
                throw e;
            }
            return server;
        }
    }

    /** A server whose log is named after {@code name} and whose state lives in {@code workDir}. */
    static Options named(String name, Path workDir) {
        return new Options(name, workDir);
    }

    int port() {
        return port;
    }

    /** {@code --control 127.0.0.1:PORT}, for the CLI commands that talk to this server. */
    String controlAddress() {
        if (controlPort < 0) {
            throw new IllegalStateException("this server runs without the control API");
        }
        return "127.0.0.1:" + controlPort;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGTERM, so the server closes its images cleanly; SIGKILL only if it hangs. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Ready when the NBD port sends the greeting and, with a control API, /health answers 200. */
    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (!greets() || (controlPort >= 0 && !healthy())) {
            if (!process.isAlive()) {
                throw new IllegalStateException("tidemark serve exited with status " + process.exitValue()
                        + " before it was ready; its log:\n" + log());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("tidemark serve was not ready within " + STARTUP_TIMEOUT.toSeconds()
                        + " s; its log:\n" + log());
            }
            Thread.sleep(100);
        }
    }

    private boolean greets() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), PROBE_TIMEOUT_MILLIS);
            socket.setSoTimeout(PROBE_TIMEOUT_MILLIS);
            return new DataInputStream(socket.getInputStream()).readLong() == NBD_MAGIC;
        } catch (IOException notYet) {
            return false;
        }
    }

    private boolean healthy() throws InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + controlAddress() + "/health"))
                    .timeout(Duration.ofMillis(PROBE_TIMEOUT_MILLIS)).build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException notYet) {
            return false;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
