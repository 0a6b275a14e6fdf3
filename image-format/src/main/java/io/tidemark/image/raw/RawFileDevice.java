package io.tidemark.image.raw;

import io.tidemark.image.BlockDevice;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.FastZeroUnsupportedException;
import io.tidemark.image.ZeroMode;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A plain file used byte for byte as a device. Reads and writes are positional
 * ({@code pread}/{@code pwrite}), so concurrent connections never share a file position or a lock.
 *
 * <p>The virtual size is the file's size when it was opened and never changes while open.
 *
 * <p><b>Usage</b> (the quantity thresholds watch) is defined as the larger of the file's size at
 * open and the highest end offset written since open. Writes are confined to the virtual size, so
 * this is always the file size: a raw file has no physical high-water mark that writes move, and
 * therefore no allocations to report to an {@link io.tidemark.image.AllocationListener}.
 */
public final class RawFileDevice implements BlockDevice {

    /** Chunk for writing zeroes when the range cannot be zeroed without data. */
    private static final int ZERO_CHUNK = 1 << 20;
    /** Reported as the preferred I/O size: the common page and filesystem block size. */
    private static final int PREFERRED_BLOCK_SIZE = 4096;

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final long size;

    private RawFileDevice(Path path, FileChannel channel, boolean readOnly, long size) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.size = size;
    }

    /** Opens an existing file; its current size becomes the device size. */
    public static RawFileDevice open(Path path, boolean readOnly) throws IOException {
        FileChannel channel = readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return new RawFileDevice(path, channel, readOnly, channel.size());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public DeviceCapabilities capabilities() {
        DeviceCapabilities caps = new DeviceCapabilities(false, false, false, false, PREFERRED_BLOCK_SIZE);
        return readOnly ? caps.asReadOnly() : caps;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        long position = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                throw new EOFException(path + ": file shrank below " + size + " bytes; read at offset " + position + " hit its end");
            }
            position += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        checkWritable();
        int length = src.remaining();
        checkRange(offset, length);
        long position = offset;
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
        if (fua) {
            channel.force(true);
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(true);
        }
    }

    /** Without hole punching there is nothing to release; the data stays (NBD allows that). */
    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        checkWritable();
        checkRange(offset, length);
        if (fua) {
            channel.force(true);
        }
    }

    @Override
    public void writeZeroes(long offset, long length, ZeroMode mode, boolean fua) throws IOException {
        checkWritable();
        checkRange(offset, length);
        if (mode.fastOnly()) {
            throw new FastZeroUnsupportedException(path + ": cannot zero " + length + " bytes at offset " + offset + " without writing data");
        }
        writeZeroData(offset, length);
        if (fua) {
            channel.force(true);
        }
    }

    @Override
    public List<Extent> extents(long offset, long length) throws IOException {
        checkRange(offset, length);
        if (length == 0) {
            return List.of();
        }
        return List.of(new Extent(offset, length, ExtentType.DATA));
    }

    @Override
    public long usage() {
        return size;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private void writeZeroData(long offset, long length) throws IOException {
        ByteBuffer zeroes = ByteBuffer.allocate((int) Math.min(ZERO_CHUNK, length));
        long position = offset;
        long end = offset + length;
        while (position < end) {
            zeroes.clear().limit((int) Math.min(zeroes.capacity(), end - position));
            while (zeroes.hasRemaining()) {
                position += channel.write(zeroes, position);
            }
        }
    }

    private void checkWritable() throws AccessDeniedException {
        if (readOnly) {
            throw new AccessDeniedException(path.toString(), null, "opened read-only");
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException(
                    path + ": range " + offset + "+" + length + " is outside the device of " + size + " bytes");
        }
    }

    @Override
    public String toString() {
        return "raw:" + path;
    }
}
