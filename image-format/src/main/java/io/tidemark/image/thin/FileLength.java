package io.tidemark.image.thin;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps the image file long enough for the space handed out at its end. A new cluster whose
 * client writes only part of it must still lie wholly inside the file before the map references
 * it (reads and {@code check} stop at the end of the file), so the file grows ahead of the
 * allocations by writing its new last byte: one write per step instead of one per cluster. A step
 * is an eighth of the file's length, at least {@value #STEP_CLUSTERS} clusters and at most
 * {@value #MAX_STEP} bytes, so a file that grows to n bytes takes O(log n) growing writes, not
 * n / 16 clusters. The bytes between read as zeroes (a sparse hole): growing ahead takes no host
 * space.
 *
 * <p>Rule for callers: {@link #cover} the space before writing into it. The growing write lands
 * at the end of a step, in space that no writer may touch before its own {@code cover} call has
 * returned, so it can never overwrite a client's byte.
 *
 * <p>A crash leaves the unused part of the last step as a sparse tail, which {@code check}
 * reports as leaked and a clean close truncates.
 */
final class FileLength {

    /** Clusters in the smallest growth step. */
    static final int STEP_CLUSTERS = 16;
    /** The largest growth step: 1 GiB. */
    static final long MAX_STEP = 1L << 30;
    /** A step is this fraction of the file's length. */
    private static final int STEP_DIVISOR = 8;

    private final ImageFile file;
    /** The smallest step; every length the file is grown to is a multiple of it. */
    private final long step;
    private final ReentrantLock growing = new ReentrantLock();
    /** The file's length; only {@link #cover} changes it while the image is open. */
    private volatile long length;

    FileLength(ImageFile file, long length, int clusterSize) {
        this.file = file;
        this.length = length;
        this.step = (long) STEP_CLUSTERS * clusterSize;
    }

    /** Makes the file at least {@code end} bytes long; a lock-free check when it already is. */
    void cover(long end) throws IOException {
        if (end <= length) {
            return;
        }
        growing.lock();
        try {
            if (end <= length) {
                return;
            }
            long target = ImageFormat.alignUp(end, step);
            long growth = Math.min(length / STEP_DIVISOR, MAX_STEP);
            if (growth > step) {
                target = Math.max(target, ImageFormat.alignUp(length + growth, step));
            }
            file.write(ByteBuffer.allocate(1), target - 1);
            length = target;
        } finally {
            growing.unlock();
        }
    }
}
