package io.tidemark.image.raw;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.FastZeroUnsupportedException;
import io.tidemark.image.FileSegment;
import io.tidemark.image.NoSpaceException;
import io.tidemark.image.ZeroMode;
import io.tidemark.image.hostfile.HostFile;
import io.tidemark.image.hostfile.HostFileCapabilities;
import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A plain file used byte for byte as a device. Reads and writes are positional
 * ({@code pread}/{@code pwrite}), so concurrent connections never share a file position or a lock.
 * Trim punches holes, zeroing punches holes or zeroes ranges in the filesystem, and extents come
 * from {@code SEEK_DATA}/{@code SEEK_HOLE}, each where the host filesystem supports it (see
 * {@link HostFile}).
 *
 * <p>The virtual size is the file's size when it was opened and never changes while open. A
 * writer holds an exclusive {@code flock} on the file, readers a shared one, so a second server or
 * tool cannot open it for writing at the same time.
 *
 * <p><b>Usage</b> (the quantity thresholds watch) is the end of the highest write: on open, the
 * end of the last data the filesystem reports (the file size where it cannot tell data from
 * holes); after that it rises with every write that ends above it. A write that raises it is first
 * {@linkplain AllocationListener#reserve reserved} (a quota may refuse it before any byte is
 * written) and then {@linkplain AllocationListener#allocated reported} once written, so a raw
 * export on a sparse file or a growing logical volume can carry thresholds like a thin image.
 */
public final class RawFileDevice implements BlockDevice {

    /** Chunk for writing zeroes when the range cannot be zeroed without data. */
    private static final int ZERO_CHUNK = 1 << 20;
    /**
     * Ranges handed to the filesystem for punching or zeroing are aligned to this: the page and
     * block size of the filesystems we run on, and a multiple of any block device's logical block.
     */
    private static final int HOST_BLOCK = 4096;
    /** Reported as the preferred I/O size: writes of whole host blocks avoid read-modify-write. */
    private static final int PREFERRED_BLOCK_SIZE = HOST_BLOCK;
    /** Extents one {@link #extents} call returns at most; callers ask again for the rest. */
    static final int MAX_EXTENTS = 1024;

    private final Path path;
    private final FileChannel channel;
    private final HostFile host;
    private final boolean readOnly;
    private final long size;
    private final AllocationListener listener;
    /** End of the highest write (see the class comment); only ever rises. */
    private final AtomicLong highWater;

    private RawFileDevice(Path path, FileChannel channel, HostFile host, boolean readOnly, long size,
            AllocationListener listener, long highWater) {
        this.path = path;
        this.channel = channel;
        this.host = host;
        this.readOnly = readOnly;
        this.size = size;
        this.listener = listener;
        this.highWater = new AtomicLong(highWater);
    }

    /**
     * Opens an existing file; its current size becomes the device size.
     *
     * @throws FileSystemException when another opener holds a conflicting lock on the file
     */
    public static RawFileDevice open(Path path, boolean readOnly) throws IOException {
        return open(path, readOnly, AllocationListener.NONE);
    }

    /**
     * Opens an existing file whose usage the listener follows (see the class comment).
     *
     * @throws FileSystemException when another opener holds a conflicting lock on the file
     */
    public static RawFileDevice open(Path path, boolean readOnly, AllocationListener listener) throws IOException {
        return open(path, readOnly, listener, true);
    }

    /**
     * Opens a file read-only without taking its lock (qemu-img's force-share), for tools that look
     * at a file a server has open for writing; what they read may change meanwhile.
     */
    public static RawFileDevice openForceShare(Path path) throws IOException {
        return open(path, true, AllocationListener.NONE, false);
    }

    private static RawFileDevice open(Path path, boolean readOnly, AllocationListener listener, boolean lock)
            throws IOException {
        FileChannel channel = readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        HostFile host = null;
        try {
            host = HostFile.open(path, !readOnly);
            if (lock && !host.tryLock(!readOnly)) {
                throw new FileSystemException(path.toString(), null, readOnly
                        ? "locked: another server or tool has it open for writing"
                        : "locked: another server or tool has it open");
            }
            long size = channel.size();
            return new RawFileDevice(path, channel, host, readOnly, size, listener, endOfLastData(host, size));
        } catch (IOException | RuntimeException e) {
            if (host != null) {
                host.close();
            }
            channel.close();
            throw e;
        }
    }

    /**
     * Creates a raw file of {@code size} bytes that is one hole, and opens it for writing.
     *
     * @throws FileAlreadyExistsException when {@code path} exists; it is left untouched
     */
    public static RawFileDevice create(Path path, long size) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException(path + ": negative size " + size);
        }
        try {
            Files.createFile(path);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(path.toString(), null, "already exists");
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "its directory does not exist");
        }
        setLength(path, size);
        return open(path, false);
    }

    /**
     * Grows a raw file to {@code newSize} bytes; the new tail is a hole and reads as zeroes. Takes
     * the writer's lock first, so a file that is being served is refused.
     *
     * @throws IllegalArgumentException when {@code newSize} is smaller than the file
     */
    public static void grow(Path path, long newSize) throws IOException {
        try (RawFileDevice device = open(path, false)) {
            if (newSize < device.size()) {
                throw new IllegalArgumentException(path + ": cannot shrink from " + device.size() + " to " + newSize
                        + " bytes; only growing is supported");
            }
            setLength(path, newSize);
        }
    }

    /** Sets the length with ftruncate, which extends a file by a hole rather than by data. */
    private static void setLength(Path path, long size) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
        }
    }

    public Path path() {
        return path;
    }

    /** What the filesystem under the file supports. */
    public HostFileCapabilities hostCapabilities() {
        return host.capabilities();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public DeviceCapabilities capabilities() {
        HostFileCapabilities hostCaps = host.capabilities();
        DeviceCapabilities caps = new DeviceCapabilities(false, hostCaps.punchHole(),
                hostCaps.punchHole() || hostCaps.zeroRange(), hostCaps.seekData(), PREFERRED_BLOCK_SIZE);
        return readOnly ? caps.asReadOnly() : caps;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        long position = offset;
        while (dst.hasRemaining()) {
            // direct buffers (the server's) go straight to pread: FileChannel's per-call bookkeeping
            // cost about a third of a 4 KiB read
            int n = dst.isDirect() ? host.read(position, dst) : channel.read(dst, position);
            if (n <= 0) {
                throw new EOFException(path + ": file shrank below " + size + " bytes; read at offset " + position + " hit its end");
            }
            position += n;
        }
    }

    /** One {@code preadv2(RWF_NOWAIT)}: all of it from the page cache, or nothing. */
    @Override
    public boolean readIfCached(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        if (!dst.isDirect()) {
            return false;
        }
        int at = dst.position();
        int wanted = dst.remaining();
        if (host.readIfCached(offset, dst) == wanted) {
            return true;
        }
        dst.position(at);
        return false;
    }

    /**
     * Every range: guest offset is file offset. Nothing needs pinning: a raw file never moves data,
     * and a TRIM racing the transfer leaves the bytes as undefined as it leaves a {@link #read}'s.
     */
    @Override
    public Optional<FileSegment> contiguousData(long offset, long length) {
        checkRange(offset, length);
        return Optional.of(new FileSegment(channel, offset, length, () -> { }));
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        checkWritable();
        checkRange(offset, src.remaining());
        long end = offset + src.remaining();
        long mark = highWater.get();
        if (end > mark) {
            listener.reserve(end);
        }
        writeFully(src, offset);
        if (fua) {
            channel.force(true);
        }
        if (end > mark) {
            raiseHighWater(end);
        }
    }

    /**
     * Quick unless the write raises the high-water mark and the listener would make it wait for
     * that (a quota with the pause policy), or the file is on a network filesystem. A write into a
     * hole only reserves blocks: the host allocates them at writeback.
     */
    @Override
    public boolean writeIfQuick(long offset, ByteBuffer... parts) throws IOException {
        if (readOnly || host.isRemote()) {
            return false;
        }
        long length = BlockDevice.remaining(parts);
        checkRange(offset, length);
        long end = offset + length;
        long mark = highWater.get();
        if (end > mark && !listener.tryReserve(end)) {
            return false;
        }
        long position = offset;
        for (ByteBuffer part : parts) {
            position += writeFully(part, position);
        }
        if (end > mark) {
            raiseHighWater(end);
        }
        return true;
    }

    /** Raises the mark to {@code end} unless a concurrent write raised it further; reports the growth. */
    private void raiseHighWater(long end) {
        long previous = highWater.getAndAccumulate(end, Math::max);
        if (end > previous) {
            listener.allocated(previous, end - previous, end);
        }
    }

    /** Where the last data ends: the whole file when the filesystem cannot find holes. */
    private static long endOfLastData(HostFile host, long size) throws IOException {
        long end = 0;
        long position = 0;
        while (position < size) {
            long data = host.nextData(position);
            if (data < 0 || data >= size) {
                break;
            }
            long hole = host.nextHole(data);
            end = hole < 0 ? size : Math.min(hole, size);
            if (end <= position) {
                return size;
            }
            position = end;
        }
        return end;
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(true);
        }
    }

    /**
     * Punches a hole; where the filesystem cannot, the data stays (NBD allows that). Partial host
     * blocks at the edges are zeroed instead, so a trimmed range always reads as zeroes when
     * {@link DeviceCapabilities#trim()} is set.
     */
    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        checkWritable();
        checkRange(offset, length);
        long start = alignUp(offset);
        long end = alignDown(offset + length);
        if (start >= end) {
            if (host.capabilities().punchHole()) {
                writeZeroData(offset, length);
            }
        } else if (isHole(start, end) || host.punchHole(start, end - start)) {
            writeEdges(offset, length, start, end);
        }
        if (fua) {
            channel.force(true);
        }
    }

    /**
     * Punches a hole when the range may become one, else zeroes it in the filesystem
     * (ZERO_RANGE), else writes zeroes unless only a fast zero was asked for. Only whole host
     * blocks go to the filesystem (block devices insist); partial blocks at the edges are written,
     * which is quick enough to count as fast.
     */
    @Override
    public void writeZeroes(long offset, long length, ZeroMode mode, boolean fua) throws IOException {
        checkWritable();
        checkRange(offset, length);
        long start = alignUp(offset);
        long end = alignDown(offset + length);
        if (start >= end) {
            writeZeroData(offset, length);
        } else {
            boolean done = mode.mayTrim() && (isHole(start, end) || host.punchHole(start, end - start));
            if (!done) {
                done = host.zeroRange(start, end - start);
            }
            if (!done) {
                if (mode.fastOnly()) {
                    throw new FastZeroUnsupportedException(
                            path + ": cannot zero " + length + " bytes at offset " + offset + " without writing data");
                }
                writeZeroData(start, end - start);
            }
            writeEdges(offset, length, start, end);
        }
        if (fua) {
            channel.force(true);
        }
    }

    /**
     * Whether {@code [start, end)} is one hole already, so punching it would change nothing. One
     * lseek instead of a fallocate, which takes the file's lock against every writer and drops the
     * range from the page cache: copying a sparse image into a fresh file zeroes mostly holes.
     * Without {@code SEEK_DATA} everything counts as data.
     */
    private boolean isHole(long start, long end) throws IOException {
        long data = host.nextData(start);
        return data < 0 || data >= end;
    }

    /** Holes as {@link ExtentType#HOLE}, everything else as {@link ExtentType#DATA}. */
    @Override
    public List<Extent> extents(long offset, long length) throws IOException {
        checkRange(offset, length);
        List<Extent> extents = new ArrayList<>();
        if (length == 0) {
            return extents;
        }
        long end = offset + length;
        long position = offset;
        // One lseek per extent: SEEK_HOLE first, which ends a data run at once (a read inside data
        // costs one call); after that each run's end says what the next run is, so only its end is
        // looked up. Only a range starting in a hole pays a second call for it.
        long hole = host.nextHole(position);
        ExtentType type = hole == position ? ExtentType.HOLE : ExtentType.DATA;
        long runEnd = type == ExtentType.DATA ? hole : host.nextData(position);
        while (true) {
            // -1: holes (or the file's end) all the way; a run ending where it started: the file
            // changed under us (truncated), so the rest is reported as data rather than loop.
            if (runEnd < 0) {
                runEnd = end;
            } else if (runEnd <= position) {
                type = ExtentType.DATA;
                runEnd = end;
            }
            runEnd = Math.min(runEnd, end);
            append(extents, new Extent(position, runEnd - position, type));
            position = runEnd;
            if (position >= end || extents.size() >= MAX_EXTENTS) {
                return extents;
            }
            type = type == ExtentType.DATA ? ExtentType.HOLE : ExtentType.DATA;
            runEnd = type == ExtentType.DATA ? host.nextHole(position) : host.nextData(position);
        }
    }

    @Override
    public long usage() {
        return highWater.get();
    }

    @Override
    public void close() throws IOException {
        try (host) {
            channel.close();
        }
    }

    private static void append(List<Extent> extents, Extent next) {
        if (!extents.isEmpty()) {
            Extent last = extents.getLast();
            if (last.type() == next.type() && last.end() == next.offset()) {
                extents.set(extents.size() - 1, new Extent(last.offset(), last.length() + next.length(), last.type()));
                return;
            }
        }
        extents.add(next);
    }

    /** Zeroes the parts of {@code [offset, offset + length)} outside the aligned {@code [start, end)}. */
    private void writeEdges(long offset, long length, long start, long end) throws IOException {
        writeZeroData(offset, start - offset);
        writeZeroData(end, offset + length - end);
    }

    private static long alignUp(long offset) {
        return Math.ceilDiv(offset, HOST_BLOCK) * HOST_BLOCK;
    }

    private static long alignDown(long offset) {
        return Math.floorDiv(offset, HOST_BLOCK) * HOST_BLOCK;
    }

    private void writeZeroData(long offset, long length) throws IOException {
        if (length == 0) {
            return;
        }
        ByteBuffer zeroes = ByteBuffer.allocate((int) Math.min(ZERO_CHUNK, length));
        long position = offset;
        long end = offset + length;
        while (position < end) {
            zeroes.clear().limit((int) Math.min(zeroes.capacity(), end - position));
            position += writeFully(zeroes, position);
        }
    }

    /**
     * Writes all of {@code src} at {@code offset}; returns the bytes written. A sparse file can run
     * out of host space on any write, which the JDK reports only by the C library's message.
     */
    private int writeFully(ByteBuffer src, long offset) throws IOException {
        int length = src.remaining();
        long position = offset;
        try {
            while (src.hasRemaining()) {
                position += src.isDirect() ? host.write(position, src) : channel.write(src, position);
            }
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("No space left")) {
                throw new NoSpaceException(path + ": host filesystem is full writing at offset " + position, e);
            }
            throw e;
        }
        return length;
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
