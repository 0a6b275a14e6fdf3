package io.tidemark.image.thin;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Striped read-write locks over guest clusters. I/O into an already-allocated cluster holds its
 * stripe's read lock, so it never waits for another cluster; changing a cluster's map entry
 * holds the write lock, so no write can land in a cluster after it was freed.
 */
final class ClusterLocks {

    private static final int STRIPES = 1024;
    private final ReentrantReadWriteLock[] locks = new ReentrantReadWriteLock[STRIPES];

    ClusterLocks() {
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantReadWriteLock();
        }
    }

    ReentrantReadWriteLock forCluster(long cluster) {
        return locks[(int) (cluster & (STRIPES - 1))];
    }
}
