package io.tidemark.it;

import static org.junit.jupiter.api.Assertions.fail;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.Extent;
import io.tidemark.image.ImageFiles;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The allocation map of an image file read directly with {@code tidemark image map}, not over
 * NBD: what the maps clients see over NBD are checked against. The image must not be in use by
 * a tidemark server at that moment (the server holds the image's lock).
 */
final class ImageMaps {

    private ImageMaps() {
    }

    /**
     * A thin image's map read with the image library. {@code tidemark image map} does not read
     * thin images yet; when it does, {@link #of} replaces this.
     */
    static ExtentMap ofThin(Path image) throws IOException {
        try (ThinImage thin = ThinImage.open(image, true, AllocationListener.NONE)) {
            List<ExtentMap.Run> runs = new ArrayList<>();
            for (Extent extent : thin.extents(0, thin.size())) {
                runs.add(new ExtentMap.Run(extent.offset(), extent.length(), switch (extent.type()) {
                    case DATA -> ExtentMap.Kind.DATA;
                    case ZERO -> ExtentMap.Kind.ZERO;
                    case HOLE -> ExtentMap.Kind.HOLE;
                }));
            }
            return new ExtentMap(runs);
        }
    }

    static ExtentMap of(Path image) throws IOException, InterruptedException {
        TidemarkProcess.Result result = TidemarkProcess.run("image", "map", "--json", image.toString());
        if (result.exitCode() != 0) {
            fail("tidemark image map --json " + image + " exited with " + result.exitCode() + ": " + result.stderr());
        }
        return ExtentMap.fromImageMap(result.stdout(), ImageFiles.kindOf(image) == ImageFiles.Kind.RAW);
    }
}
