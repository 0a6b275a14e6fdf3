package io.tidemark.it.hardening;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code tidemark serve} in its own JVM, started from the shaded jar, that a test can kill -9,
 * stop with SIGTERM, and measure.
 */
final class ServerProcess implements AutoCloseable {

    private static final long START_TIMEOUT_SECONDS = 60;
    /** Room for FloodIT's --max-bytes-in-flight (384 MiB) and what arrives before it takes hold. */
    private static final String MAX_DIRECT_MEMORY = "768m";

    private final Process process;
    private final String uri;
    private final Path log;

    private ServerProcess(Process process, String uri, Path log) {
        this.process = process;
        this.uri = uri;
        this.log = log;
    }

    /** Starts a server on a free loopback port serving the given {@code NAME=PATH} exports. */
    static ServerProcess start(Path log, String... exports) throws IOException {
        List<String> args = new ArrayList<>();
        for (String export : exports) {
            args.add("--export");
            args.add(export);
        }
        return serve(log, args.toArray(String[]::new));
    }

    /** Starts {@code tidemark serve --listen 127.0.0.1:0} with further arguments. */
    static ServerProcess serve(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx256m",
                "-XX:MaxDirectMemorySize=" + MAX_DIRECT_MEMORY, "-jar", jar(), "serve", "--listen", "127.0.0.1:0",
                "--control", "off"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("listening on nbd://")) {
                return new ServerProcess(process, line.substring("listening on ".length()).trim(), log);
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        process.destroyForcibly();
        throw new IOException("server did not start; its log:\n" + Files.readString(log));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String jar() {
        Path jar = Path.of(System.getProperty("tidemark.jar", "../nbd-server/target/tidemark.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("tidemark jar not built: " + jar.toAbsolutePath());
        }
        return jar.toAbsolutePath().toString();
    }

    /** The NBD URI of an export, e.g. {@code nbd://127.0.0.1:40123/disk}. */
    String uri(String export) {
        return uri + "/" + export;
    }

    /** The TCP port the server listens on. */
    int port() {
        return Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1));
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Resident memory of the server now, from /proc. */
    long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid() + "/status");
    }

    /** SIGKILL: no shutdown hook, no flush, no clean flag. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** SIGTERM and wait for the graceful shutdown; kill -9 if it hangs. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
