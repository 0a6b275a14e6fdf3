package io.tidemark.server.nbd;

import io.tidemark.image.BlockDevice;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.FastZeroUnsupportedException;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A device in memory for server tests: bytes plus a per-block state (hole, zero, data) so that
 * extents, holes and trims are observable, with failure injection and operation counters.
 */
class MemoryDevice implements BlockDevice {

    static final int BLOCK = 4096;

    private final byte[] data;
    private final ExtentType[] blocks;
    private final DeviceCapabilities capabilities;
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger caches = new AtomicInteger();
    final AtomicReference<IOException> nextFailure = new AtomicReference<>();
    /** Whether {@link #readIfCached} serves reads, as a page cache holding everything would. */
    volatile boolean cached;
    final AtomicInteger cachedReads = new AtomicInteger();
    volatile boolean closed;
    /** Whether {@link #writeIfQuick} takes writes, as a device with the space allocated already would. */
    volatile boolean quickWrites;
    /** How long {@link #writeIfQuick} takes, as a host throttling dirty pages would make it. */
    volatile long quickWriteMillis;
    final AtomicInteger quickWriteCount = new AtomicInteger();

    MemoryDevice(int size, DeviceCapabilities capabilities) {
        this.data = new byte[size];
        this.blocks = new ExtentType[(size + BLOCK - 1) / BLOCK];
        java.util.Arrays.fill(blocks, ExtentType.HOLE);
        this.capabilities = capabilities;
    }

    MemoryDevice(int size) {
        this(size, new DeviceCapabilities(false, true, true, true, 65536));
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public DeviceCapabilities capabilities() {
        return capabilities;
    }

    private void maybeFail() throws IOException {
        IOException failure = nextFailure.getAndSet(null);
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        maybeFail();
        dst.put(data, (int) offset, dst.remaining());
    }

    @Override
    public synchronized boolean readIfCached(long offset, ByteBuffer dst) throws IOException {
        if (!cached) {
            return false;
        }
        read(offset, dst);
        cachedReads.incrementAndGet();
        return true;
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        maybeFail();
        int length = src.remaining();
        src.get(data, (int) offset, length);
        mark(offset, length, ExtentType.DATA);
    }

    @Override
    public synchronized boolean writeIfQuick(long offset, ByteBuffer... parts) throws IOException {
        if (!quickWrites) {
            return false;
        }
        long at = offset;
        for (ByteBuffer part : parts) {
            int n = part.remaining();
            write(at, part, false);
            at += n;
        }
        quickWriteCount.incrementAndGet();
        if (quickWriteMillis > 0) {
            try {
                Thread.sleep(quickWriteMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return true;
    }

    @Override
    public void flush() throws IOException {
        maybeFail();
        flushes.incrementAndGet();
    }

    @Override
    public synchronized void trim(long offset, long length, boolean fua) throws IOException {
        maybeFail();
        zero(offset, length, true);
    }

    @Override
    public synchronized void writeZeroes(long offset, long length, ZeroMode mode, boolean fua) throws IOException {
        maybeFail();
        if (mode.fastOnly() && !mode.mayTrim()) {
            throw new FastZeroUnsupportedException("cannot zero without a hole quickly");
        }
        zero(offset, length, mode.mayTrim());
    }

    private void zero(long offset, long length, boolean hole) {
        java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
        mark(offset, length, hole ? ExtentType.HOLE : ExtentType.ZERO);
    }

    /** Whole blocks take the new state; partly covered blocks that were holes become data. */
    private void mark(long offset, long length, ExtentType type) {
        long end = offset + length;
        for (long b = offset / BLOCK; b * BLOCK < end; b++) {
            boolean whole = b * BLOCK >= offset && Math.min((b + 1) * BLOCK, data.length) <= end;
            if (whole) {
                blocks[(int) b] = type;
            } else if (blocks[(int) b] != ExtentType.DATA) {
                blocks[(int) b] = ExtentType.DATA;
            }
        }
    }

    @Override
    public synchronized List<Extent> extents(long offset, long length) throws IOException {
        maybeFail();
        List<Extent> extents = new ArrayList<>();
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            ExtentType type = blocks[(int) (pos / BLOCK)];
            long next = Math.min(end, (pos / BLOCK + 1) * BLOCK);
            if (!extents.isEmpty() && extents.getLast().type() == type) {
                Extent last = extents.removeLast();
                extents.add(new Extent(last.offset(), next - last.offset(), type));
            } else {
                extents.add(new Extent(pos, next - pos, type));
            }
            pos = next;
        }
        return extents;
    }

    @Override
    public void cache(long offset, long length) {
        caches.incrementAndGet();
    }

    @Override
    public long usage() {
        long used = 0;
        for (ExtentType type : blocks) {
            used += type == ExtentType.HOLE ? 0 : BLOCK;
        }
        return used;
    }

    @Override
    public void close() {
        closed = true;
    }

    synchronized byte[] bytes(int offset, int length) {
        return java.util.Arrays.copyOfRange(data, offset, offset + length);
    }
}
