package io.tidemark.it.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the shaded tidemark jar the way the launcher does: one command, or a long-running process. */
final class TidemarkCli {

    private static final long COMMAND_TIMEOUT_SECONDS = 120;

    /** What a finished command printed. */
    record Result(List<String> args, int exitCode, String stdout, String stderr) {

        Result assertSuccess() {
            if (exitCode != 0) {
                throw new AssertionError(describe("exited with status " + exitCode));
            }
            return this;
        }

        String describe(String what) {
            return "`tidemark " + String.join(" ", args) + "` " + what
                    + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    private TidemarkCli() {
    }

    /** {@code java … -jar tidemark.jar ARGS}, with the JVM flags every tidemark JVM needs. */
    static List<String> command(List<String> args) {
        Path jar = Path.of(System.getProperty("tidemark.jar", "../nbd-server/target/tidemark.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("tidemark jar not built: " + jar.toAbsolutePath());
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-jar", jar.toAbsolutePath().toString()));
        command.addAll(args);
        return command;
    }

    /** Runs one command to its end (at most two minutes). */
    static Result run(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tidemark-out", ".txt");
        Path err = Files.createTempFile("tidemark-err", ".txt");
        try {
            Process process = new ProcessBuilder(command(List.of(args)))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("tidemark " + String.join(" ", args) + " did not finish in "
                        + COMMAND_TIMEOUT_SECONDS + " s");
            }
            return new Result(List.of(args), process.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
