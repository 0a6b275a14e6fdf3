package io.tidemark.server.control;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * An in-memory device whose usage is the end of the highest write, like a raw file, and which
 * reports growth to its allocation listener the way the real devices do: reserve, then allocated.
 */
final class MemoryDevice implements BlockDevice {

    private final byte[] data;
    private volatile AllocationListener listener = AllocationListener.NONE;
    private long usage;

    MemoryDevice(int size) {
        this.data = new byte[size];
    }

    void listener(AllocationListener listener) {
        this.listener = listener;
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public DeviceCapabilities capabilities() {
        return new DeviceCapabilities(false, false, false, false, 4096);
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        dst.put(data, (int) offset, dst.remaining());
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        long end = offset + src.remaining();
        long before;
        synchronized (this) {
            before = usage;
        }
        if (end > before) {
            listener.reserve(end);
        }
        long grown = 0;
        synchronized (this) {
            src.get(data, (int) offset, src.remaining());
            if (end > usage) {
                grown = end - usage;
                usage = end;
            }
        }
        if (grown > 0) {
            listener.allocated(end - grown, grown, end);
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void trim(long offset, long length, boolean fua) {
    }

    @Override
    public void writeZeroes(long offset, long length, ZeroMode mode, boolean fua) throws IOException {
        write(offset, ByteBuffer.allocate((int) length), fua);
    }

    @Override
    public List<Extent> extents(long offset, long length) {
        return List.of(new Extent(offset, length, ExtentType.DATA));
    }

    @Override
    public synchronized long usage() {
        return usage;
    }

    @Override
    public void close() {
    }
}
