package io.tidemark.server.control;

import io.tidemark.image.BlockDevice;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.image.Extent;
import io.tidemark.image.FileSegment;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A decorator that records every device operation in {@link TidemarkMetrics} under the NBD
 * command it serves: count, payload bytes, latency, and failures by NBD error name. The error name
 * comes from the server's single exception-to-NBD-error mapping, passed in as {@code errorName}.
 */
public final class MeteredBlockDevice implements BlockDevice {

    private final BlockDevice inner;
    private final String export;
    private final TidemarkMetrics metrics;
    private final Function<Throwable, String> errorName;
    private final TidemarkMetrics.CommandMeters read;
    private final TidemarkMetrics.CommandMeters write;
    private final TidemarkMetrics.CommandMeters flush;
    private final TidemarkMetrics.CommandMeters trim;
    private final TidemarkMetrics.CommandMeters zero;
    private final TidemarkMetrics.CommandMeters blockStatus;
    private final TidemarkMetrics.CommandMeters cache;

    public MeteredBlockDevice(BlockDevice inner, String export, TidemarkMetrics metrics,
            Function<Throwable, String> errorName) {
        this.inner = inner;
        this.export = export;
        this.metrics = metrics;
        this.errorName = errorName;
        this.read = metrics.command(export, "read");
        this.write = metrics.command(export, "write");
        this.flush = metrics.command(export, "flush");
        this.trim = metrics.command(export, "trim");
        this.zero = metrics.command(export, "write_zeroes");
        this.blockStatus = metrics.command(export, "block_status");
        this.cache = metrics.command(export, "cache");
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public DeviceCapabilities capabilities() {
        return inner.capabilities();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int bytes = dst.remaining();
        long start = System.nanoTime();
        try {
            inner.read(offset, dst);
        } catch (IOException | RuntimeException e) {
            failed("read", e);
            throw e;
        }
        read.record(bytes, System.nanoTime() - start);
    }

    /** A read from the page cache counts when it succeeds; refused, the {@link #read} that follows counts. */
    @Override
    public boolean readIfCached(long offset, ByteBuffer dst) throws IOException {
        int bytes = dst.remaining();
        long start = System.nanoTime();
        boolean done;
        try {
            done = inner.readIfCached(offset, dst);
        } catch (IOException | RuntimeException e) {
            failed("read", e);
            throw e;
        }
        if (done) {
            read.record(bytes, System.nanoTime() - start);
        }
        return done;
    }

    /**
     * A zero-copy read counts as a read of its bytes when its segment is found; the latency is the
     * lookup's, as the transfer happens later on the socket.
     */
    @Override
    public Optional<FileSegment> contiguousData(long offset, long length) throws IOException {
        long start = System.nanoTime();
        Optional<FileSegment> segment;
        try {
            segment = inner.contiguousData(offset, length);
        } catch (IOException | RuntimeException e) {
            failed("read", e);
            throw e;
        }
        if (segment.isPresent()) {
            read.record(length, System.nanoTime() - start);
        }
        return segment;
    }

    /** A quick write counts when it is done; refused, the {@link #write} that follows counts. */
    @Override
    public boolean writeIfQuick(long offset, ByteBuffer... parts) throws IOException {
        long bytes = BlockDevice.remaining(parts);
        long start = System.nanoTime();
        boolean done;
        try {
            done = inner.writeIfQuick(offset, parts);
        } catch (IOException | RuntimeException e) {
            failed("write", e);
            throw e;
        }
        if (done) {
            write.record(bytes, System.nanoTime() - start);
        }
        return done;
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int bytes = src.remaining();
        long start = System.nanoTime();
        try {
            inner.write(offset, src, fua);
        } catch (IOException | RuntimeException e) {
            failed("write", e);
            throw e;
        }
        write.record(bytes, System.nanoTime() - start);
    }

    /** Counts once, as the one WRITE it serves. */
    @Override
    public void write(long offset, ByteBuffer[] parts, boolean fua) throws IOException {
        long bytes = BlockDevice.remaining(parts);
        long start = System.nanoTime();
        try {
            inner.write(offset, parts, fua);
        } catch (IOException | RuntimeException e) {
            failed("write", e);
            throw e;
        }
        write.record(bytes, System.nanoTime() - start);
    }

    @Override
    public void flush() throws IOException {
        long start = System.nanoTime();
        try {
            inner.flush();
        } catch (IOException | RuntimeException e) {
            failed("flush", e);
            throw e;
        }
        flush.record(0, System.nanoTime() - start);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        long start = System.nanoTime();
        try {
            inner.trim(offset, length, fua);
        } catch (IOException | RuntimeException e) {
            failed("trim", e);
            throw e;
        }
        trim.record(0, System.nanoTime() - start);
    }

    @Override
    public void writeZeroes(long offset, long length, ZeroMode mode, boolean fua) throws IOException {
        long start = System.nanoTime();
        try {
            inner.writeZeroes(offset, length, mode, fua);
        } catch (IOException | RuntimeException e) {
            failed("write_zeroes", e);
            throw e;
        }
        zero.record(0, System.nanoTime() - start);
    }

    @Override
    public List<Extent> extents(long offset, long length) throws IOException {
        long start = System.nanoTime();
        List<Extent> extents;
        try {
            extents = inner.extents(offset, length);
        } catch (IOException | RuntimeException e) {
            failed("block_status", e);
            throw e;
        }
        blockStatus.record(0, System.nanoTime() - start);
        return extents;
    }

    @Override
    public void cache(long offset, long length) throws IOException {
        long start = System.nanoTime();
        try {
            inner.cache(offset, length);
        } catch (IOException | RuntimeException e) {
            failed("cache", e);
            throw e;
        }
        cache.record(0, System.nanoTime() - start);
    }

    @Override
    public long usage() {
        return inner.usage();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }

    private void failed(String command, Exception e) {
        metrics.error(export, command, errorName.apply(e));
    }
}
