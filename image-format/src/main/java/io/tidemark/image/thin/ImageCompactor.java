package io.tidemark.image.thin;

import io.tidemark.image.AllocationListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * {@code tidemark image compact}: moves clusters from the top of the file into free space below,
 * rewrites the tables low, and truncates the file after the last used byte. Every step goes
 * through normal commits, so a crash leaves a valid image (with leaks at worst).
 */
public final class ImageCompactor {

    /**
     * @param fileSizeBefore bytes of the file before
     * @param fileSizeAfter  bytes of the file after
     * @param movedClusters  clusters moved down (or kept clusters dropped)
     */
    public record Result(long fileSizeBefore, long fileSizeAfter, long movedClusters) {
    }

    private ImageCompactor() {
    }

    /** Compacts the image at {@code path}, which must not be open elsewhere. */
    public static Result compact(Path path, ProgressListener progress) throws IOException {
        return compact(ThinImage.open(path, false, AllocationListener.NONE), path.toFile().length(), progress,
                () -> path.toFile().length());
    }

    interface SizeProbe {
        long size() throws IOException;
    }

    static Result compact(ThinImage image, long sizeBefore, ProgressListener progress, SizeProbe sizeAfter)
            throws IOException {
        long moved = 0;
        try (image) {
            // A first commit turns space freed before (and old tables) into reusable space.
            image.commitNow();
            List<long[]> stored = image.storedClusters();
            stored.sort(Comparator.comparingLong((long[] s) -> s[1]).reversed());
            for (int i = 0; i < stored.size(); i++) {
                if (image.relocate(stored.get(i)[0], true)) {
                    moved++;
                }
                progress.progress(i + 1, stored.size());
            }
            // Data is packed; the next commit frees the top, the one after puts the tables low.
            image.commitNow();
            image.rewriteAllTables();
            image.commitNow();
            image.releaseFreeSpace();
        }
        return new Result(sizeBefore, sizeAfter.size(), moved);
    }
}
