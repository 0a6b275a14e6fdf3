package io.tidemark.image.thin;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Gives unreferenced ranges of an image file back to the host filesystem (fallocate
 * PUNCH_HOLE). The thin image calls it only for space no durable header references.
 */
@FunctionalInterface
public interface SpaceReleaser {

    void release(long offset, long length) throws IOException;

    SpaceReleaser NONE = (offset, length) -> { };

    /**
     * The releaser for an image file. This is the one call site for hole punching: until the FFM
     * binding in {@code io.tidemark.image.hostfile} is merged it returns {@link #NONE}, so freed
     * space is reused by later allocations but not returned to the host.
     */
    static SpaceReleaser forFile(Path path, FileChannel channel) {
        return NONE;
    }
}
