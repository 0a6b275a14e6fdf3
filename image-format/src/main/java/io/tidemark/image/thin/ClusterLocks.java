package io.tidemark.image.thin;

import java.util.Arrays;
import java.util.concurrent.locks.StampedLock;

/**
 * Striped read-write locks over guest clusters. I/O into an already-allocated cluster holds its
 * stripe's read lock, which is shared, so it never waits for I/O elsewhere; changing a cluster's
 * map entry holds the write lock, so no write can land in a cluster after it was freed.
 *
 * <p>{@link StampedLock}s: one atomic update to take and one to drop, with no per-thread hold
 * counts. They are not reentrant; no path takes a stripe it already holds.
 */
final class ClusterLocks {

    private static final int STRIPES = 1024;
    private final StampedLock[] locks = new StampedLock[STRIPES];

    ClusterLocks() {
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new StampedLock();
        }
    }

    StampedLock forCluster(long cluster) {
        return locks[(int) (cluster & (STRIPES - 1))];
    }

    /**
     * How many clusters from {@code cluster} to {@code lastCluster} one run may lock: a run never
     * wraps around the stripes, so every thread takes stripes in ascending order and holds at
     * most one stripe's write lock outside a run; no two threads can wait on each other.
     */
    int runLimit(long cluster, long lastCluster) {
        return (int) Math.min(lastCluster - cluster + 1, STRIPES - (cluster & (STRIPES - 1)));
    }

    /** Locks {@code count} clusters from {@code cluster} on (at most {@link #runLimit}), for writing or reading. */
    long[] lockRun(long cluster, int count, boolean write) {
        long[] stamps = new long[count];
        for (int i = 0; i < count; i++) {
            StampedLock lock = forCluster(cluster + i);
            stamps[i] = write ? lock.writeLock() : lock.readLock();
        }
        return stamps;
    }

    /**
     * Takes the read locks of {@code count} clusters from {@code cluster} on (at most
     * {@link #runLimit}) only if none is held for writing; returns their stamps, or null with
     * nothing held.
     */
    long[] tryLockRunForReading(long cluster, int count) {
        long[] stamps = new long[count];
        for (int i = 0; i < count; i++) {
            stamps[i] = forCluster(cluster + i).tryReadLock();
            if (stamps[i] == 0) {
                unlockRun(cluster, Arrays.copyOf(stamps, i));
                return null;
            }
        }
        return stamps;
    }

    /** Releases what {@link #lockRun} or {@link #tryLockRunForReading} took. */
    void unlockRun(long cluster, long[] stamps) {
        for (int i = 0; i < stamps.length; i++) {
            forCluster(cluster + i).unlock(stamps[i]);
        }
    }
}
