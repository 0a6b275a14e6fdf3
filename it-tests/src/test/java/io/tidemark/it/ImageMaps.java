package io.tidemark.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The allocation map of an image file read directly with {@code tidemark image map}, not over
 * NBD: what the maps clients see over NBD are checked against. The image must not be in use by
 * a tidemark server at that moment (the server holds the image's lock).
 */
final class ImageMaps {

    private ImageMaps() {
    }

    static ExtentMap of(Path image) throws IOException, InterruptedException {
        TidemarkProcess.Result result = TidemarkProcess.run("image", "map", "--json", image.toString());
        if (result.exitCode() != 0) {
            fail("tidemark image map --json " + image + " exited with " + result.exitCode() + ": " + result.stderr());
        }
        return ExtentMap.fromImageMap(result.stdout());
    }
}
