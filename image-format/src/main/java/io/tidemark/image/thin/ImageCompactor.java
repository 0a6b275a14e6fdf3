package io.tidemark.image.thin;

import io.tidemark.image.AllocationListener;
import java.io.IOException;
import java.nio.file.Files;
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
        long before = Files.size(path);
        long moved = compact(ThinImage.open(path, false, AllocationListener.NONE), progress);
        return new Result(before, Files.size(path), moved);
    }

    /** Compacts and closes {@code image}; returns the number of clusters moved. */
    static long compact(ThinImage image, ProgressListener progress) throws IOException {
        long moved = 0;
        try (image) {
            // A first commit turns space freed before (and old tables) into reusable space.
            image.commitNow();
            List<long[]> stored = image.storedClusters();
            // Whole clusters first, so that compressed blocks fill the odd gaps left between them;
            // each from the top down.
            stored.sort(Comparator.comparingLong((long[] s) -> s[2] == image.clusterSize() ? 0 : 1)
                    .thenComparing(Comparator.comparingLong((long[] s) -> s[1]).reversed()));
            for (int i = 0; i < stored.size(); i++) {
                if (image.relocate(stored.get(i)[0], true)) {
                    moved++;
                }
                progress.progress(i + 1, stored.size());
            }
            // Data is packed; the first commit frees the top. Each is a checkpoint (no map delta
            // is left in the way) that moves the tables to the lowest free space, but not below
            // their own current copies, which are freed only after the move: a further round
            // takes the space the one before left.
            for (int round = 0; round < 3; round++) {
                image.rewriteAllTables();
                image.commitNow();
            }
            image.releaseFreeSpace();
        }
        return moved;
    }
}
