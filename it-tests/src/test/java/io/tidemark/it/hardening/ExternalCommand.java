package io.tidemark.it.hardening;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a client program to its end and captures its exit code and output (stdout and stderr). */
final class ExternalCommand {

    private static final long TIMEOUT_SECONDS = 120;

    record Result(int exitCode, String output) {
    }

    private ExternalCommand() {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("command", ".out");
        try {
            Process p;
            try {
                p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            } catch (IOException e) {
                throw new IllegalStateException(command[0] + " is missing (scripts/install-test-deps): " + e.getMessage());
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
