package io.tidemark.it.hardening;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code nbd_workload.py}, NBD clients on libnbd (a client nobody here wrote), as separate
 * processes. A missing python3-libnbd fails the test: it is in scripts/install-test-deps.
 */
final class Workload {

    /** Debian's interpreter, the one python3-libnbd installs its module for. */
    private static final String PYTHON = "/usr/bin/python3";

    private final Path script;

    Workload(Path directory) throws IOException, InterruptedException {
        script = directory.resolve("nbd_workload.py");
        try (InputStream in = Workload.class.getResourceAsStream("nbd_workload.py")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Result check = run(List.of(PYTHON, "-c", "import nbd"), null, 30);
        if (check.exitCode() != 0) {
            throw new IllegalStateException("python3-libnbd is missing (scripts/install-test-deps): " + check.stderr());
        }
    }

    record Result(int exitCode, String stdout, String stderr) {
        List<String> lines(String prefix) {
            return stdout.lines().filter(l -> l.startsWith(prefix)).toList();
        }
    }

    /** Starts a workload in the background; its output goes to files under {@code directory}. */
    Process start(Path output, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(PYTHON, script.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectOutput(output.toFile())
                .redirectError(output.resolveSibling(output.getFileName() + ".err").toFile()).start();
    }

    /** Runs a workload to its end, feeding {@code stdin} if not null. */
    Result run(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PYTHON, script.toString()));
        command.addAll(List.of(args));
        return run(command, stdin, 300);
    }

    private static Result run(List<String> command, String stdin, long timeoutSeconds)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("workload", ".out");
        Path err = Files.createTempFile("workload", ".err");
        Path in = Files.createTempFile("workload", ".in");
        try {
            Files.writeString(in, stdin == null ? "" : stdin);
            Process p = new ProcessBuilder(command).redirectInput(in.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            Files.deleteIfExists(in);
        }
    }
}
