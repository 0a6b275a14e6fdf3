package io.tidemark.it;

import static org.junit.jupiter.api.Assertions.fail;

import io.tidemark.image.ImageFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@code tidemark image} commands, run as a user runs them: create thin images, read an
 * image's allocation map directly from the file (what maps seen over NBD are checked against),
 * check an image. The image must not be open in a tidemark server meanwhile: the server holds
 * its lock.
 */
final class ImageTool {

    /** {@code tidemark image check} exit statuses, qemu-img's convention. */
    static final int CHECK_CLEAN = 0;
    static final int CHECK_CORRUPT = 2;
    static final int CHECK_LEAKS_ONLY = 3;

    private ImageTool() {
    }

    /** A new thin image of {@code size} (e.g. {@code 64M}) with 64 KiB clusters. */
    static Path createThin(Path path, String size) throws IOException, InterruptedException {
        run("image", "create", "--size", size, "--cluster-size", "64K", path.toString());
        return path;
    }

    /** {@code tidemark image map --json}, read with the convention of the image's kind (raw or thin). */
    static ExtentMap map(Path image) throws IOException, InterruptedException {
        return ExtentMap.fromImageMap(run("image", "map", "--json", image.toString()).stdout(),
                ImageFiles.kindOf(image) == ImageFiles.Kind.RAW);
    }

    /** The exit status of {@code tidemark image check}: 0 clean, 2 corrupt, 3 leaked clusters only. */
    static int check(Path image) throws IOException, InterruptedException {
        return TidemarkProcess.run("image", "check", image.toString()).exitCode();
    }

    private static TidemarkProcess.Result run(String... args) throws IOException, InterruptedException {
        TidemarkProcess.Result result = TidemarkProcess.run(args);
        if (result.exitCode() != 0) {
            fail("tidemark " + String.join(" ", args) + " exited with " + result.exitCode() + ": "
                    + result.stderr() + result.stdout());
        }
        return result;
    }
}
