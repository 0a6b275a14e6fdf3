package io.tidemark.image.thin;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The two-level guest-cluster map in memory: an L1 array of lazily created {@link L2Table}s.
 * Lookups take no lock; everything that changes the map runs under the image's map lock.
 *
 * <p>It also keeps what the next commit must write: the tables changed since the last
 * checkpoint (the last commit that wrote tables), and the guest clusters changed since then as
 * long as they fit in one map delta; past that, or when told to, a checkpoint is due.
 */
final class ClusterMap {

    /** L1 indexes of tables changed since the last checkpoint. */
    private final BitSet dirtyTables = new BitSet();
    /** The most entries a map delta holds: one cluster of them. */
    private final int deltaCapacity;
    /**
     * Entries changed since the last checkpoint, each counted once (the tables mark which); only
     * kept up to date until a checkpoint is due. Per-table marks instead of a set of clusters:
     * boxing each first write's cluster into a hash set slowed first writes by 5%, and sorting
     * an array of them on the write path by 3%.
     */
    private int changedEntries;
    private boolean checkpointDue;
    private final int l2Bits;
    private final int l2Mask;
    private volatile AtomicReferenceArray<L2Table> l1;

    ClusterMap(int clusterBits, int l1Entries) {
        this.l2Bits = clusterBits - 3;
        this.l2Mask = (1 << l2Bits) - 1;
        this.deltaCapacity = (1 << clusterBits) / ImageFormat.DELTA_ENTRY_SIZE;
        this.l1 = new AtomicReferenceArray<>(l1Entries);
    }

    int l2Entries() {
        return 1 << l2Bits;
    }

    int l1Entries() {
        return l1.length();
    }

    /** The entry of guest cluster {@code cluster}; 0 (unallocated) when its table does not exist. */
    long get(long cluster) {
        L2Table table = l1.get((int) (cluster >>> l2Bits));
        return table == null ? 0 : table.get((int) (cluster & l2Mask));
    }

    /** Sets an entry, creating its table when needed and marking it dirty. Caller holds the map lock. */
    void set(long cluster, long entry) {
        int index = (int) (cluster >>> l2Bits);
        L2Table table = l1.get(index);
        if (table == null) {
            if (entry == 0) {
                return;
            }
            table = new L2Table(l2Entries());
            l1.set(index, table);
        }
        table.set((int) (cluster & l2Mask), entry);
        dirtyTables.set(index);
        if (!checkpointDue && table.markChanged((int) (cluster & l2Mask)) && ++changedEntries > deltaCapacity) {
            checkpointDue = true;
        }
    }

    /**
     * The guest clusters changed since the last checkpoint, ascending, for a map delta; null when
     * a checkpoint is due instead.
     */
    long[] deltaClusters() {
        if (checkpointDue) {
            return null;
        }
        long[] clusters = new long[changedEntries];
        int found = 0;
        for (int i = dirtyTables.nextSetBit(0); i >= 0; i = dirtyTables.nextSetBit(i + 1)) {
            L2Table table = l1.get(i);
            if (table != null) {
                found = table.changedClusters(clusters, found, (long) i << l2Bits);
            }
        }
        return clusters;
    }

    /** Starts a checkpoint: returns and forgets the tables (and clusters) changed since the last one. */
    BitSet takeDirtyTables() {
        BitSet taken = (BitSet) dirtyTables.clone();
        dirtyTables.clear();
        for (int i = taken.nextSetBit(0); i >= 0; i = taken.nextSetBit(i + 1)) {
            L2Table table = l1.get(i);
            if (table != null) {
                table.forgetChanges();
            }
        }
        changedEntries = 0;
        checkpointDue = false;
        return taken;
    }

    /**
     * Puts back tables taken by a checkpoint that could not go ahead. Which clusters changed is
     * forgotten meanwhile, so the next commit is a checkpoint again.
     */
    void restoreDirtyTables(BitSet tables) {
        dirtyTables.or(tables);
        checkpointDue = true;
    }

    /** Makes the next commit a checkpoint (a resize, whose L1 grows). */
    void requireCheckpoint() {
        checkpointDue = true;
    }

    /** Makes the next commit a checkpoint that rewrites every table (repair, compaction). */
    void markAllDirty() {
        for (int i = 0; i < l1.length(); i++) {
            if (l1.get(i) != null) {
                dirtyTables.set(i);
            }
        }
        checkpointDue = true;
    }

    L2Table table(int l1Index) {
        return l1.get(l1Index);
    }

    /** Installs a table read from disk. */
    void install(int l1Index, L2Table table) {
        l1.set(l1Index, table);
    }

    /** Drops an empty table after a commit wrote its L1 entry as 0. Caller holds the map lock. */
    void remove(int l1Index) {
        l1.set(l1Index, null);
    }

    /** Makes room for more L1 entries (resize). Caller holds the map lock. */
    void grow(int l1Entries) {
        AtomicReferenceArray<L2Table> old = l1;
        AtomicReferenceArray<L2Table> bigger = new AtomicReferenceArray<>(l1Entries);
        for (int i = 0; i < old.length(); i++) {
            bigger.set(i, old.get(i));
        }
        l1 = bigger;
    }

    /** The first guest cluster after the table holding {@code cluster}. */
    long nextTableStart(long cluster) {
        return ((cluster >>> l2Bits) + 1) << l2Bits;
    }

    boolean hasTable(long cluster) {
        return l1.get((int) (cluster >>> l2Bits)) != null;
    }
}
