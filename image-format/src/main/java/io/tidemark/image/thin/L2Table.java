package io.tidemark.image.thin;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One L2 table in memory. Entries are read without locks (atomic longs); they change only under
 * the image's map lock, which also guards the on-disk location.
 *
 * <p>The entries live in chunks of {@value #CHUNK_ENTRIES} that are created on first non-zero
 * entry: a sparse disk's first writes touch one entry per table, and zeroing a whole table (64 KiB
 * with 64 KiB clusters) for each made the first allocation in a table cost more than the write.
 */
final class L2Table {

    private static final int CHUNK_BITS = 6;
    /** Entries per chunk: 512 bytes of entries. */
    static final int CHUNK_ENTRIES = 1 << CHUNK_BITS;

    private final int size;
    /** Chunks of entries; a missing chunk holds only unallocated (0) entries. */
    private final AtomicReferenceArray<AtomicLongArray> chunks;
    /** Which entries changed since the last checkpoint, a bit each; null for none. Guarded by the map lock. */
    private long[] changed;
    /** Where the last commit put this table (0 when it is not on disk yet). */
    long diskOffset;
    int diskChecksum;

    L2Table(int entryCount) {
        this.size = entryCount;
        this.chunks = new AtomicReferenceArray<>((entryCount + CHUNK_ENTRIES - 1) >>> CHUNK_BITS);
    }

    long get(int index) {
        AtomicLongArray chunk = chunks.get(index >>> CHUNK_BITS);
        return chunk == null ? 0 : chunk.get(index & (CHUNK_ENTRIES - 1));
    }

    /** Caller holds the map lock, so two setters never race to create one chunk. */
    void set(int index, long entry) {
        AtomicLongArray chunk = chunks.get(index >>> CHUNK_BITS);
        if (chunk == null) {
            if (entry == 0) {
                return;
            }
            chunk = new AtomicLongArray(Math.min(CHUNK_ENTRIES, size));
            chunks.set(index >>> CHUNK_BITS, chunk);
        }
        chunk.set(index & (CHUNK_ENTRIES - 1), entry);
    }

    /** Notes that entry {@code index} changed; true when it had not since the last checkpoint. */
    boolean markChanged(int index) {
        if (changed == null) {
            changed = new long[(size + 63) >>> 6];
        }
        long bit = 1L << index;
        if ((changed[index >>> 6] & bit) != 0) {
            return false;
        }
        changed[index >>> 6] |= bit;
        return true;
    }

    /**
     * Appends the guest clusters of the entries changed since the last checkpoint, ascending, to
     * {@code into} from {@code at}, this table's first entry being cluster {@code firstCluster};
     * returns the next free index.
     */
    int changedClusters(long[] into, int at, long firstCluster) {
        int next = at;
        if (changed != null) {
            for (int word = 0; word < changed.length; word++) {
                for (long bits = changed[word]; bits != 0; bits &= bits - 1) {
                    into[next++] = firstCluster + ((long) word << 6) + Long.numberOfTrailingZeros(bits);
                }
            }
        }
        return next;
    }

    /** A checkpoint writes this table: no entry has changed since. */
    void forgetChanges() {
        changed = null;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        for (int c = 0; c < chunks.length(); c++) {
            AtomicLongArray chunk = chunks.get(c);
            if (chunk == null) {
                continue;
            }
            for (int i = 0; i < chunk.length(); i++) {
                if (chunk.get(i) != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Writes the table as table {@code index} of {@code buffer}, which reads as zeroes there: only
     * the chunks that exist are written.
     */
    void encodeInto(TableBuffer buffer, int index) {
        for (int c = 0; c < chunks.length(); c++) {
            AtomicLongArray chunk = chunks.get(c);
            if (chunk != null) {
                buffer.putEntries(index, c * CHUNK_ENTRIES * ImageFormat.L2_ENTRY_SIZE, chunk);
            }
        }
    }
}
