package io.tidemark.image.thin;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Memory a commit encodes its L2 tables into before writing them. A sparse disk's tables are
 * mostly zeroes, and a fresh heap buffer per table cost more than the write itself: zeroing it,
 * faulting its pages in, and the channel's copy into a temporary direct buffer. So the buffers
 * are direct, shared by all images of the process, and all zeroes while pooled: a commit writes
 * only the non-zero entries, and its release zeroes only the regions it wrote.
 *
 * <p>Pooled buffers hold at most {@value #POOL_LIMIT} bytes in all; a commit that needs more than
 * that at once (a repair rewriting every table of a large disk) gets a heap buffer per table, as
 * before: one buffer for all of them would need more than an {@code int} addresses once they
 * pass 2 GiB (512 Ki tables of 4 KiB, a fully allocated 1 TiB disk with 4 KiB clusters).
 */
final class TableBuffer {

    /** Bytes of direct memory kept in the pool across commits. */
    static final long POOL_LIMIT = 16L << 20;
    /** The smallest direct buffer made, so that commits of a few tables share one size. */
    private static final int MIN_DIRECT = 1 << 20;

    /** Zeroes for clearing what a commit wrote: one chunk of entries, the most one write covers. */
    private static final byte[] ZEROS = new byte[L2Table.CHUNK_ENTRIES * ImageFormat.L2_ENTRY_SIZE];
    /**
     * The pooled buffers, taken and given back by identity under the class lock. Not a concurrent
     * collection's {@code remove(Object)}: pooled buffers are all zeroes, so {@link ByteBuffer#equals}
     * holds between any two of one size, and removing "an equal one" let two commits take the same.
     */
    private static final List<ByteBuffer> POOL = new ArrayList<>();
    private static long pooledBytes;

    private final int tableBytes;
    /** The pooled memory holding every table, one after the other; null for heap tables. */
    private final ByteBuffer memory;
    /** One heap buffer per table, made when first used, when {@link #memory} is null. */
    private final ByteBuffer[] heapTables;
    /** Offset and length pairs of the regions of {@link #memory} written, zeroed again on release. */
    private int[] written = new int[64];
    private int writtenCount;

    private TableBuffer(int tableBytes, ByteBuffer memory, ByteBuffer[] heapTables) {
        this.tableBytes = tableBytes;
        this.memory = memory;
        this.heapTables = heapTables;
    }

    /** Room for {@code tables} tables of {@code tableBytes} bytes each, all zeroes. */
    static TableBuffer take(int tables, int tableBytes) {
        long bytes = (long) tables * tableBytes;
        if (bytes > POOL_LIMIT) {
            return new TableBuffer(tableBytes, null, new ByteBuffer[tables]);
        }
        ByteBuffer pooled = takePooled(bytes);
        if (pooled == null) {
            pooled = ByteBuffer.allocateDirect(Math.max(MIN_DIRECT, Integer.highestOneBit((int) bytes - 1) << 1));
        }
        return new TableBuffer(tableBytes, pooled, null);
    }

    /** Table {@code index}: zeroes except where written through {@link #putEntries}. */
    ByteBuffer table(int index) {
        return memory != null ? memory.slice(index * tableBytes, tableBytes) : heapTable(index).duplicate();
    }

    /** Writes a chunk of L2 entries at byte {@code offset} of table {@code index}, big-endian. */
    void putEntries(int index, int offset, AtomicLongArray entries) {
        ByteBuffer target = memory != null ? memory : heapTable(index);
        int at = (memory != null ? index * tableBytes : 0) + offset;
        for (int i = 0; i < entries.length(); i++) {
            target.putLong(at + i * ImageFormat.L2_ENTRY_SIZE, entries.get(i));
        }
        if (memory == null) {
            return; // a heap table is dropped after the commit, not zeroed again
        }
        if (writtenCount == written.length) {
            written = Arrays.copyOf(written, written.length * 2);
        }
        written[writtenCount++] = at;
        written[writtenCount++] = entries.length() * ImageFormat.L2_ENTRY_SIZE;
    }

    private ByteBuffer heapTable(int index) {
        if (heapTables[index] == null) {
            heapTables[index] = ByteBuffer.allocate(tableBytes);
        }
        return heapTables[index];
    }

    /** Gives the memory back, zeroed again where it was written; the buffer is unusable after. */
    void release() {
        if (memory == null) {
            return;
        }
        for (int i = 0; i < writtenCount; i += 2) {
            memory.put(written[i], ZEROS, 0, written[i + 1]);
        }
        writtenCount = 0;
        givePooled(memory);
    }

    /** Removes and returns the first pooled buffer of at least {@code bytes}; null when none. */
    private static synchronized ByteBuffer takePooled(long bytes) {
        for (int i = 0; i < POOL.size(); i++) {
            if (POOL.get(i).capacity() >= bytes) {
                ByteBuffer taken = POOL.remove(i);
                pooledBytes -= taken.capacity();
                return taken;
            }
        }
        return null;
    }

    /** Pools a zeroed buffer while the pool stays within its limit; else drops it. */
    private static synchronized void givePooled(ByteBuffer memory) {
        if (pooledBytes + memory.capacity() <= POOL_LIMIT) {
            POOL.add(memory);
            pooledBytes += memory.capacity();
        }
    }

}
