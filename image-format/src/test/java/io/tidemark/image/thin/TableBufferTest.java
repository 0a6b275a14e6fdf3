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
        TableBuffer first = TableBuffer.take(4 * CHUNK_BYTES);
        first.putEntries(0, chunkOf(1));
        first.putEntries(3 * CHUNK_BYTES, chunkOf(100));
        first.release();
        TableBuffer second = TableBuffer.take(4 * CHUNK_BYTES);
        second.putEntries(CHUNK_BYTES, chunkOf(7));
        ByteBuffer all = second.slice(0, 4 * CHUNK_BYTES);
        for (int i = 0; i < 4 * L2Table.CHUNK_ENTRIES; i++) {
            long expected = i >= L2Table.CHUNK_ENTRIES && i < 2 * L2Table.CHUNK_ENTRIES ? 7 + i - L2Table.CHUNK_ENTRIES : 0;
            assertThat(all.getLong(i * 8)).as("entry %d", i).isEqualTo(expected);
        }
        second.release();
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
                    TableBuffer buffer = TableBuffer.take(CHUNK_BYTES);
                    ByteBuffer view = buffer.slice(0, CHUNK_BYTES);
                    if (view.getLong(0) != 0) {
                        clash.compareAndSet(null, "round " + r + ": a taken buffer holds 0x" + Long.toHexString(view.getLong(0)));
                    }
                    buffer.putEntries(0, chunkOf(mark + r));
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
