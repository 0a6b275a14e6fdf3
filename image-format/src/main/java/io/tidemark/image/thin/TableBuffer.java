package io.tidemark.image.thin;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
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
    private static final ConcurrentLinkedQueue<ByteBuffer> POOL = new ConcurrentLinkedQueue<>();
    private static final AtomicLong POOLED_BYTES = new AtomicLong();

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
        for (ByteBuffer candidate : POOL) {
            if (candidate.capacity() >= bytes && POOL.remove(candidate)) {
                POOLED_BYTES.addAndGet(-candidate.capacity());
                return new TableBuffer(candidate, true);
            }
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
        if (POOLED_BYTES.addAndGet(memory.capacity()) <= POOL_LIMIT) {
            POOL.add(memory);
        } else {
            POOLED_BYTES.addAndGet(-memory.capacity());
        }
    }

}
