package io.tidemark.threshold;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A file channel that, once {@link #tearNextWrite armed}, writes only part of the next buffer and
 * then fails, as a write does when the disk fills up mid-line.
 */
final class TornWriteChannel extends FileChannel {

    private final FileChannel file;
    private int bytesBeforeFailure = -1;

    TornWriteChannel(FileChannel file) {
        this.file = file;
    }

    void tearNextWrite(int bytesWritten) {
        bytesBeforeFailure = bytesWritten;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (bytesBeforeFailure == 0) {
            bytesBeforeFailure = -1;
            throw new IOException("No space left on device");
        }
        if (bytesBeforeFailure > 0) {
            ByteBuffer part = src.slice(src.position(), Math.min(bytesBeforeFailure, src.remaining()));
            int n = file.write(part);
            src.position(src.position() + n);
            bytesBeforeFailure = 0;
            return n;
        }
        return file.write(src);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new UnsupportedOperationException("the outbox writes one buffer at a time");
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        file.truncate(size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        file.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return file.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return file.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) {
        throw new UnsupportedOperationException("the outbox appends");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return file.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
