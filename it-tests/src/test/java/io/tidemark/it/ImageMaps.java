package io.tidemark.it;

import java.io.IOException;
import java.nio.file.Path;

/** The allocation map of an image file read directly, not over NBD: what NBD maps are checked against. */
final class ImageMaps {

    private ImageMaps() {
    }

    /** Until {@code tidemark image map} lands, qemu-img reads a raw file's holes the same way (SEEK_HOLE). */
    static ExtentMap of(Path image) throws IOException {
        return ExtentMap.fromQemuImg(Client.run("qemu-img", "map", "--output=json", "-f", "raw",
                image.toString()).assertSuccess().stdout());
    }
}
