package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The pooled table buffers: every taken buffer reads as zeroes, and no two commits (of any
 * images, on any threads) ever hold the same memory.
 */
class TableBufferTest {

    private static final int CHUNK_BYTES = L2Table.CHUNK_ENTRIES * ImageFormat.L2_ENTRY_SIZE;

    private static AtomicLongArray chunkOf(long value) {
        AtomicLongArray chunk = new AtomicLongArray(L2Table.CHUNK_ENTRIES);
        for (int i = 0; i < chunk.length(); i++) {
            chunk.set(i, value + i);
        }
        return chunk;
    }

    @Test
    void aBufferTakenAfterAnotherWasReleasedReadsAsZeroesWhereTheOtherWrote() {
        TableBuffer first = TableBuffer.take(4, CHUNK_BYTES);
        first.putEntries(0, 0, chunkOf(1));
        first.putEntries(3, 0, chunkOf(100));
        first.release();
        TableBuffer second = TableBuffer.take(4, CHUNK_BYTES);
        second.putEntries(1, 0, chunkOf(7));
        for (int t = 0; t < 4; t++) {
            ByteBuffer table = second.table(t);
            for (int i = 0; i < L2Table.CHUNK_ENTRIES; i++) {
                assertThat(table.getLong(i * 8)).as("table %d entry %d", t, i).isEqualTo(t == 1 ? 7 + i : 0);
            }
        }
        second.release();
    }

    /**
     * More tables than one buffer an {@code int} addresses (a repair rewriting every table of a
     * fully allocated 1 TiB disk with 4 KiB clusters): each still reads back its own entries.
     */
    @Test
    void tablesBeyondTwoGibibytesKeepTheirOwnEntries() {
        int tables = 600_000;
        int tableBytes = 4096;
        TableBuffer buffer = TableBuffer.take(tables, tableBytes);
        buffer.putEntries(tables - 1, tableBytes - CHUNK_BYTES, chunkOf(42));
        buffer.putEntries(1, 0, chunkOf(5));
        ByteBuffer last = buffer.table(tables - 1);
        assertThat(last.capacity()).isEqualTo(tableBytes);
        assertThat(last.getLong(tableBytes - CHUNK_BYTES)).isEqualTo(42);
        assertThat(last.getLong(0)).isZero();
        assertThat(buffer.table(1).getLong(0)).isEqualTo(5);
        assertThat(buffer.table(0).getLong(0)).isZero();
        buffer.release();
    }

    /**
     * Threads (the commits of different images) take, fill and release buffers of one size at
     * once. A buffer that two of them hold at the same time shows up as the other's entries in
     * one's slice. The pool's buffers are all zeroes, so equal by {@link ByteBuffer#equals}: a
     * pool that removes by equality can hand out one it no longer holds.
     */
    @Test
    void concurrentTakersNeverShareABuffer() throws Exception {
        int threads = 4;
        int rounds = 50_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<String> clash = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long mark = (t + 1L) << 32;
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int r = 0; r < rounds && clash.get() == null; r++) {
                    TableBuffer buffer = TableBuffer.take(1, CHUNK_BYTES);
                    ByteBuffer view = buffer.table(0);
                    if (view.getLong(0) != 0) {
                        clash.compareAndSet(null, "round " + r + ": a taken buffer holds 0x" + Long.toHexString(view.getLong(0)));
                    }
                    buffer.putEntries(0, 0, chunkOf(mark + r));
                    Thread.onSpinWait();
                    if (view.getLong(0) != mark + r) {
                        clash.compareAndSet(null, "round " + r + ": another taker wrote 0x"
                                + Long.toHexString(view.getLong(0)) + " into this buffer");
                    }
                    buffer.release();
                }
            }));
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        assertThat(clash.get()).as("two takers shared a buffer").isNull();
    }
}
