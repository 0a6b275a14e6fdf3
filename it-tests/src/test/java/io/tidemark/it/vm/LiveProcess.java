package io.tidemark.it.vm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A long-running program whose output the test watches while it runs, the way a user watches a
 * terminal: every line is kept in memory and copied to a log file as it arrives.
 */
final class LiveProcess implements AutoCloseable {

    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final String TCP_ESTABLISHED = "01";

    private final String name;
    private final Process process;
    private final StringBuilder output = new StringBuilder();
    private final Thread pump;

    private LiveProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.pump = Thread.ofPlatform().daemon().name(name + "-output").start(() -> copyOutput(log));
    }

    /** Starts {@code command} in {@code dir} with {@code environment} added; output goes to target/vm-logs/NAME.log. */
    static LiveProcess start(String name, List<String> command, Path dir, Map<String, String> environment)
            throws IOException {
        // A shell without job control starts its background jobs with SIGINT ignored, a JVM started
        // so keeps ignoring it (it then installs no Ctrl-C handler), and the test's own JVM passes
        // that on: CI run in the background made the demo deaf to interrupt(). env restores the default.
        List<String> withDefaultInterrupt = new ArrayList<>(List.of("/usr/bin/env", "--default-signal=INT"));
        withDefaultInterrupt.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(withDefaultInterrupt)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true);
        builder.environment().putAll(environment);
        return new LiveProcess(name, builder.start(), Guest.logFile(name + ".log"));
    }

    synchronized String output() {
        return output.toString();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits until a line of the output matches, or fails showing what was printed. */
    String awaitLine(Predicate<String> matches, String what, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String line : output().split("\n")) {
                if (matches.test(line)) {
                    return line;
                }
            }
            if (!process.isAlive()) {
                pump.join(1000);
                throw new AssertionError(name + " exited with status " + process.exitValue() + " before printing "
                        + what + "; it printed:\n" + output());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " did not print " + what + " within " + timeout.toSeconds()
                        + " s; it printed:\n" + output());
            }
            Thread.sleep(100);
        }
    }

    /**
     * Whether this process (or a child) holds an established TCP connection to {@code port}: read
     * from /proc, because a follower that prints nothing until the first event gives no other sign
     * that it is listening.
     */
    boolean connectedTo(int port) throws IOException {
        Set<String> sockets = new HashSet<>();
        List<Long> pids = new ArrayList<>(List.of(process.pid()));
        process.descendants().forEach(child -> pids.add(child.pid()));
        for (long pid : pids) {
            try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith("socket:[")) {
                            sockets.add(target.substring("socket:[".length(), target.length() - 1));
                        }
                    } catch (IOException closedMeanwhile) {
                        // the descriptor went away between list and read
                    }
                }
            } catch (IOException exited) {
                // the process ended between listing and reading
            }
        }
        String remotePort = String.format(":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.strip().split("\\s+");
                if (f.length > 9 && f[2].endsWith(remotePort) && f[3].equals(TCP_ESTABLISHED) && sockets.contains(f[9])) {
                    return true;
                }
            }
        }
        return false;
    }

    /** What Ctrl-C in its terminal does: SIGINT. Returns the exit status, or fails if it does not exit. */
    int interrupt(Duration timeout) throws IOException, InterruptedException {
        signal("INT");
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            // a JVM prints its threads' stacks on SIGQUIT: the failure then shows where the stop hung
            signal("QUIT");
            process.waitFor(3, TimeUnit.SECONDS);
            throw new AssertionError(name + " did not exit within " + timeout.toSeconds() + " s of SIGINT; it printed"
                    + " (a JVM's thread dump last):\n" + output());
        }
        pump.join(1000);
        return process.exitValue();
    }

    private void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder(BUSYBOX.toString(), "kill", "-" + name, Long.toString(process.pid()))
                .redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void copyOutput(Path log) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                Writer copy = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                synchronized (this) {
                    output.append(line).append('\n');
                }
                copy.write(line);
                copy.write('\n');
                copy.flush();
            }
        } catch (IOException e) {
            if (process.isAlive()) {
                throw new UncheckedIOException(e);
            }
            // closed by close(): the process is gone and so is the rest of its output
        }
    }
}
