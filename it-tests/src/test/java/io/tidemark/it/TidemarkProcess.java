package io.tidemark.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the shaded tidemark jar as a separate process, the way the launcher does. */
final class TidemarkProcess {

    private static final long COMMAND_TIMEOUT_SECONDS = 120;

    record Result(int exitCode, String stdout, String stderr) {
    }

    private TidemarkProcess() {
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("tidemark.jar", "../nbd-server/target/tidemark.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("tidemark jar not built: " + jar.toAbsolutePath());
        }
        return jar;
    }

    static List<String> command(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("--sun-misc-unsafe-memory-access=allow");
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(List.of(args));
        return command;
    }

    static Result run(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tidemark-out", ".txt");
        Path err = Files.createTempFile("tidemark-err", ".txt");
        try {
            Process p = new ProcessBuilder(command(args))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("tidemark " + String.join(" ", args) + " did not finish");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
