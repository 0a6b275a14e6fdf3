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
 * that at once (a repair rewriting every table of a large disk) gets heap memory, as before.
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

    private final ByteBuffer memory;
    private final boolean pooled;
    /** Offset and length pairs of the regions written, zeroed again on release. */
    private int[] written = new int[64];
    private int writtenCount;

    private TableBuffer(ByteBuffer memory, boolean pooled) {
        this.memory = memory;
        this.pooled = pooled;
    }

    /** A buffer of at least {@code bytes} bytes, all zeroes. */
    static TableBuffer take(long bytes) {
        if (bytes > POOL_LIMIT) {
            return new TableBuffer(ByteBuffer.allocate(Math.toIntExact(bytes)), false);
        }
        ByteBuffer pooled = takePooled(bytes);
        if (pooled != null) {
            return new TableBuffer(pooled, true);
        }
        int capacity = Math.max(MIN_DIRECT, Integer.highestOneBit((int) bytes - 1) << 1);
        return new TableBuffer(ByteBuffer.allocateDirect(capacity), true);
    }

    /** The bytes {@code [offset, offset + length)}, zeroes except where written through {@link #putEntries}. */
    ByteBuffer slice(int offset, int length) {
        return memory.slice(offset, length);
    }

    /** Writes a chunk of L2 entries at {@code offset}, big-endian. */
    void putEntries(int offset, AtomicLongArray entries) {
        for (int i = 0; i < entries.length(); i++) {
            memory.putLong(offset + i * ImageFormat.L2_ENTRY_SIZE, entries.get(i));
        }
        if (writtenCount == written.length) {
            written = Arrays.copyOf(written, written.length * 2);
        }
        written[writtenCount++] = offset;
        written[writtenCount++] = entries.length() * ImageFormat.L2_ENTRY_SIZE;
    }

    /** Gives the memory back, zeroed again where it was written; the buffer is unusable after. */
    void release() {
        if (!pooled) {
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
