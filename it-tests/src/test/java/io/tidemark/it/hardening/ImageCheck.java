package io.tidemark.it.hardening;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code tidemark image check} (and {@code create}) from the shaded jar, as a user would. */
final class ImageCheck {

    record Result(int exitCode, String output) {
        /** 0 clean, 3 leaked clusters only: both mean no data or metadata was lost. */
        boolean cleanOrLeaksOnly() {
            return exitCode == 0 || exitCode == 3;
        }
    }

    private ImageCheck() {
    }

    static Result run(Path image) throws IOException, InterruptedException {
        return tidemark("image", "check", image.toString());
    }

    /** {@code tidemark image create --size SIZE PATH}: a thin image. */
    static void createThin(Path image, String size) throws IOException, InterruptedException {
        Result created = tidemark("image", "create", "--size", size, image.toString());
        if (created.exitCode() != 0) {
            throw new IOException("image create failed: " + created.output());
        }
    }

    private static Result tidemark(String... args) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("tidemark.jar", "../nbd-server/target/tidemark.jar"));
        Path out = Files.createTempFile("check", ".out");
        try {
            List<String> command = new java.util.ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar",
                    jar.toString()));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("tidemark " + String.join(" ", args) + " did not finish");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
