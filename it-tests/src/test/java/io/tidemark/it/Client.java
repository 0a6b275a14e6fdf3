package io.tidemark.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external client program (nbdinfo, qemu-img, fio, …) with a timeout and captures its
 * output. A program that is not installed fails the test with the package that provides it:
 * these tests exist to prove interoperability, so a missing client must never pass as a skip.
 */
public final class Client {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Searched before the inherited PATH, in the children's PATH too: the clients are distribution
     * packages, and some are scripts (nbdsh runs {@code python3 -m nbd}) that need the
     * distribution's interpreter, not one a developer's PATH puts first (pyenv, conda).
     */
    private static final List<String> SYSTEM_DIRS =
            List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");

    /** Debian package per program, for the failure message; scripts/install-test-deps installs them. */
    private static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("nbdinfo", "libnbd-bin"),
            Map.entry("nbdcopy", "libnbd-bin"),
            Map.entry("nbdsh", "libnbd-bin and python3-libnbd"),
            Map.entry("nbdfuse", "nbdfuse"),
            Map.entry("qemu-img", "qemu-utils"),
            Map.entry("qemu-io", "qemu-utils"),
            Map.entry("qemu-nbd", "qemu-utils"),
            Map.entry("fio", "fio"),
            Map.entry("nbdkit", "nbdkit"),
            Map.entry("nbd-client", "nbd-client"),
            Map.entry("mkfs.ext4", "e2fsprogs"),
            Map.entry("e2fsck", "e2fsprogs"),
            Map.entry("fusermount3", "fuse3"),
            Map.entry("losetup", "mount"),
            Map.entry("mount", "mount"),
            Map.entry("umount", "mount"));

    /** What a finished program did. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        /** This result, or a test failure showing the command and everything it printed. */
        public Result assertSuccess() {
            if (exitCode != 0) {
                fail(describe("exited with status " + exitCode));
            }
            return this;
        }

        /** This result if the program failed, else a test failure: for commands the server must refuse. */
        public Result assertFailure() {
            if (exitCode == 0) {
                fail(describe("succeeded but was expected to fail"));
            }
            return this;
        }

        public String describe(String what) {
            return "`" + String.join(" ", command) + "` " + what
                    + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    private Client() {
    }

    public static Result run(String program, String... args) throws IOException {
        return run(DEFAULT_TIMEOUT, program, args);
    }

    /** Runs {@code program} with {@code args} and no input; kills it and fails after {@code timeout}. */
    public static Result run(Duration timeout, String program, String... args) throws IOException {
        try (Running running = start(program, args)) {
            return running.await(timeout);
        }
    }

    /** Starts {@code program} in the background; {@link Running#close()} kills it if it still runs. */
    public static Running start(String program, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(resolve(program).toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("client-out", ".txt");
        Path err = Files.createTempFile("client-err", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        builder.environment().put("PATH", String.join(":", searchPath()));
        try {
            return new Running(command, builder.start(), out, err);
        } catch (IOException e) {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            throw e;
        }
    }

    /** A client program started in the background, its output going to temporary files. */
    public static final class Running implements AutoCloseable {

        private final List<String> command;
        private final Process process;
        private final Path out;
        private final Path err;

        private Running(List<String> command, Process process, Path out, Path err) {
            this.command = command;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** What the program printed to stdout so far. */
        public String stdout() throws IOException {
            return Files.readString(out, StandardCharsets.UTF_8);
        }

        /** What the program printed to stderr so far. */
        public String stderr() throws IOException {
            return Files.readString(err, StandardCharsets.UTF_8);
        }

        /** Waits for the program to exit; kills it and fails the test after {@code timeout}. */
        public Result await(Duration timeout) throws IOException {
            try {
                boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!finished) {
                    kill();
                }
                Result result = new Result(command, finished ? process.exitValue() : -1, stdout(), stderr());
                if (!finished) {
                    fail(result.describe("did not finish within " + timeout.toSeconds() + " s and was killed"));
                }
                return result;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running " + command, e);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                if (process.isAlive()) {
                    kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        }

        private void kill() throws InterruptedException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Set<String> searchPath() {
        Set<String> dirs = new LinkedHashSet<>(SYSTEM_DIRS);
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) {
                dirs.add(dir);
            }
        }
        return dirs;
    }

    /** The absolute path of {@code program} on PATH (system directories first), or a test failure. */
    public static Path resolve(String program) {
        for (String dir : searchPath()) {
            Path candidate = Path.of(dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return fail("client program '" + program + "' is not installed (Debian package "
                + PACKAGES.getOrDefault(program, "unknown") + "; scripts/install-test-deps installs it). "
                + "Interoperability tests fail rather than skip when a client is missing.");
    }
}
