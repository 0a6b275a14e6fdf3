package io.tidemark.image.thin;

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
}
