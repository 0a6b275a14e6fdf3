package io.tidemark.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A path that does not exist yet, in a fresh directory of its own, for one image; removed on close. */
final class ScratchPath implements AutoCloseable {

    private final Path directory;
    private final Path image;

    /** @param parent where to make the directory; empty for the default temporary directory */
    ScratchPath(String parent) throws IOException {
        Path base = parent.isEmpty() ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(parent);
        directory = Files.createTempDirectory(base, "tidemark-bench-");
        image = directory.resolve("image");
    }

    Path image() {
        return image;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(image);
        Files.deleteIfExists(directory);
    }
}
