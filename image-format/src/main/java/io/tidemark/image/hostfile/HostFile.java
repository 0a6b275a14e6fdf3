package io.tidemark.image.hostfile;

import io.tidemark.image.NoSpaceException;
import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A native file descriptor on an image file, for the operations {@link java.nio.channels.FileChannel}
 * lacks: punching holes, zeroing ranges without writing data, finding holes and data, and
 * {@code flock} locks. It is a second descriptor next to the caller's channel; both see the same
 * file.
 *
 * <p>Operations the filesystem does not support ({@code EOPNOTSUPP}) are not errors: the methods
 * return {@code false} and {@link #capabilities()} records it, so callers fall back (for example
 * to writing zeroes). The path may also name a block device; those want ranges aligned to their
 * logical block size (EINVAL otherwise), which is the caller's business.
 *
 * <p>Keep one {@code HostFile} open for as long as the image is open: on Linux, closing any
 * descriptor of a file drops every POSIX ({@code fcntl}) lock the process holds on it, including
 * {@link java.nio.channels.FileChannel#lock} locks. The {@code flock} locks of {@link #tryLock}
 * belong to this descriptor alone and are not affected by that.
 *
 * <p>Safe for concurrent use; {@link #close} waits for calls in progress, so no call ever reaches
 * a reused descriptor number.
 */
public final class HostFile implements Closeable {

    private static final int SEEK_END = 2;

    /**
     * The errno capture each thread's reads and writes reuse: allocating one per call (a confined
     * arena each time) cost as much as a 4 KiB read itself; the automatic arena frees it once the
     * thread is gone.
     */
    private static final ThreadLocal<MemorySegment> CAPTURE = ThreadLocal.withInitial(
            () -> LibC.captureSegment(Arena.ofAuto()));
    /** The struct iovec each thread's {@link #readIfCached} reuses, for the same reason. */
    private static final ThreadLocal<MemorySegment> IOVEC = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(2 * Long.BYTES, Long.BYTES));

    /**
     * statfs magic numbers of filesystems whose buffered writes can wait on a network, a cluster
     * lock or a user-space daemon: NFS, SMB (CIFS, SMB2), Ceph, 9P, FUSE (GlusterFS and others),
     * Lustre, GPFS, AFS, OCFS2, GFS2.
     */
    private static final Set<Long> REMOTE_FILESYSTEMS = Set.of(0x6969L, 0xFF534D42L, 0xFE534D42L, 0x00C36400L,
            0x01021997L, 0x65735546L, 0x0BD00BD0L, 0x47504653L, 0x5346414FL, 0x7461636FL, 0x01161970L);

    private final Path path;
    private final int fd;
    private final boolean writable;
    private volatile boolean punchHole;
    private final boolean seekData;
    private final boolean remote;
    private volatile boolean zeroRange;
    /** Whether preadv2 with RWF_NOWAIT may work here; cleared when the filesystem refuses it. */
    private volatile boolean readNoWait = true;
    private final ReadWriteLock closing = new ReentrantReadWriteLock();
    private boolean closed;

    private HostFile(Path path, int fd, boolean writable) throws IOException {
        this.path = path;
        this.fd = fd;
        this.writable = writable;
        this.punchHole = writable && (!Files.isRegularFile(path) || probePunchHole());
        this.zeroRange = writable;
        this.seekData = probeSeekData();
        this.remote = probeRemote();
    }

    /** Opens {@code path} for reading, and for writing when {@code writable}. */
    public static HostFile open(Path path, boolean writable) throws IOException {
        int flags = (writable ? LibC.O_RDWR : LibC.O_RDONLY) | LibC.O_CLOEXEC;
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = LibC.captureSegment(arena);
            do {
                fd = LibC.open(capture, arena.allocateFrom(path.toString()), flags);
            } while (fd < 0 && LibC.errno(capture) == LibC.EINTR);
            if (fd < 0) {
                throw new IOException(path + ": open: " + describe(LibC.errno(capture)));
            }
        }
        try {
            return new HostFile(path, fd, writable);
        } catch (IOException | RuntimeException e) {
            closeDescriptor(path, fd);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /**
     * Whether the file lives on a filesystem whose writes can wait on something other than this
     * host's memory and disks (see {@link #REMOTE_FILESYSTEMS}), so even a write into the page
     * cache may take as long as a network round trip. Also true when the filesystem cannot be told.
     */
    public boolean isRemote() {
        return remote;
    }

    private boolean probeRemote() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = LibC.captureSegment(arena);
            MemorySegment statfs = arena.allocate(LibC.STATFS_BYTES, Long.BYTES);
            if (LibC.fstatfs(capture, fd, statfs) != 0) {
                return true;
            }
            return isRemoteFilesystem(statfs.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** Whether a statfs magic number names one of {@link #REMOTE_FILESYSTEMS}. */
    static boolean isRemoteFilesystem(long magic) {
        return REMOTE_FILESYSTEMS.contains(magic);
    }

    public HostFileCapabilities capabilities() {
        return new HostFileCapabilities(punchHole, zeroRange, seekData);
    }

    /**
     * Deallocates {@code [offset, offset + length)} without changing the file size; the range then
     * reads as zeroes (partial filesystem blocks at the edges are zeroed).
     *
     * @return {@code false}, changing nothing, when the filesystem cannot punch holes
     */
    public boolean punchHole(long offset, long length) throws IOException {
        checkWritableRange(offset, length);
        if (!punchHole) {
            return false;
        }
        if (length == 0) {
            return true;
        }
        int errno = fallocate(LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, offset, length);
        if (errno == 0) {
            return true;
        }
        if (unsupported(errno)) {
            punchHole = false;
            return false;
        }
        throw failure("fallocate(PUNCH_HOLE) at offset " + offset + " length " + length, errno);
    }

    /**
     * Makes {@code [offset, offset + length)} read as zeroes while keeping it allocated, without
     * writing data, and without changing the file size.
     *
     * @return {@code false}, changing nothing, when the filesystem cannot zero ranges
     * @throws NoSpaceException when the filesystem has no room to allocate the range
     */
    public boolean zeroRange(long offset, long length) throws IOException {
        checkWritableRange(offset, length);
        if (!zeroRange) {
            return false;
        }
        if (length == 0) {
            return true;
        }
        int errno = fallocate(LibC.FALLOC_FL_ZERO_RANGE | LibC.FALLOC_FL_KEEP_SIZE, offset, length);
        if (errno == 0) {
            return true;
        }
        if (unsupported(errno)) {
            zeroRange = false;
            return false;
        }
        throw failure("fallocate(ZERO_RANGE) at offset " + offset + " length " + length, errno);
    }

    /**
     * The start of the first data at or after {@code offset}, or -1 when only holes follow up to
     * the end of the file (or {@code offset} is at or past the end). Without {@code SEEK_DATA}
     * support the whole file counts as data.
     */
    public long nextData(long offset) throws IOException {
        return seek(offset, LibC.SEEK_DATA, "SEEK_DATA");
    }

    /**
     * The start of the first hole at or after {@code offset}; the end of the file counts as a
     * hole. Returns -1 when {@code offset} is at or past the end.
     */
    public long nextHole(long offset) throws IOException {
        return seek(offset, LibC.SEEK_HOLE, "SEEK_HOLE");
    }

    /**
     * Reads into the direct buffer {@code dst}, from its position up to its limit, at file offset
     * {@code offset} with one {@code pread}; advances the position by what was read.
     *
     * @return the bytes read, 0 at the end of the file
     */
    public int read(long offset, ByteBuffer dst) throws IOException {
        return checked(transfer(offset, dst, Transfer.PREAD), Transfer.PREAD, offset, dst);
    }

    /**
     * Reads like {@link #read} but only what the page cache holds: {@code preadv2} with
     * {@code RWF_NOWAIT}, which fails rather than wait for the disk. For a thread that must not
     * block (an event loop); the caller reads what is missing some other way.
     *
     * @return the bytes read (possibly fewer than asked, 0 at the end of the file), or -1 when
     *     nothing could be read without waiting, or the filesystem cannot tell
     */
    public int readIfCached(long offset, ByteBuffer dst) throws IOException {
        if (!readNoWait) {
            return -1;
        }
        int n = transfer(offset, dst, Transfer.PREAD_NOWAIT);
        if (n == -LibC.EAGAIN) {
            return -1;
        }
        if (n == -LibC.EOPNOTSUPP || n == -LibC.EINVAL || n == -LibC.ENOSYS) {
            readNoWait = false; // an old kernel or a filesystem without non-blocking reads
            return -1;
        }
        return checked(n, Transfer.PREAD_NOWAIT, offset, dst);
    }

    /**
     * Writes the direct buffer {@code src}, from its position up to its limit, at file offset
     * {@code offset} with one {@code pwrite}; advances the position by what was written.
     *
     * @return the bytes written
     * @throws NoSpaceException when the filesystem is full
     */
    public int write(long offset, ByteBuffer src) throws IOException {
        if (!writable) {
            throw new IllegalStateException(path + ": host file is open read-only");
        }
        return checked(transfer(offset, src, Transfer.PWRITE), Transfer.PWRITE, offset, src);
    }

    /** The positional calls {@link #transfer} makes, named as in error messages. */
    private enum Transfer {
        PREAD("pread"), PREAD_NOWAIT("preadv2"), PWRITE("pwrite");

        final String call;

        Transfer(String call) {
            this.call = call;
        }
    }

    /**
     * One call over the buffer's remaining bytes, retried when interrupted; moves its position.
     *
     * @return the bytes moved, or minus the call's errno
     */
    private int transfer(long offset, ByteBuffer buffer, Transfer transfer) throws IOException {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException(path + ": native I/O needs a direct buffer");
        }
        closing.readLock().lock();
        try {
            checkOpen();
            MemorySegment capture = CAPTURE.get();
            MemorySegment memory = MemorySegment.ofBuffer(buffer);
            long n;
            do {
                n = switch (transfer) {
                    case PREAD -> LibC.pread(capture, fd, memory, memory.byteSize(), offset);
                    case PREAD_NOWAIT -> LibC.preadv2(capture, fd, IOVEC.get(), memory, offset, LibC.RWF_NOWAIT);
                    case PWRITE -> LibC.pwrite(capture, fd, memory, memory.byteSize(), offset);
                };
            } while (n < 0 && LibC.errno(capture) == LibC.EINTR);
            if (n < 0) {
                return -LibC.errno(capture);
            }
            buffer.position(buffer.position() + (int) n);
            return (int) n;
        } finally {
            closing.readLock().unlock();
        }
    }

    /** The result of {@link #transfer}, or the exception for its errno. */
    private int checked(int result, Transfer transfer, long offset, ByteBuffer buffer) throws IOException {
        if (result >= 0) {
            return result;
        }
        throw failure(transfer.call + " of " + buffer.remaining() + " bytes at offset " + offset, -result);
    }

    /**
     * Takes an {@code flock} lock on this descriptor without waiting: exclusive for a writer,
     * shared for readers. The lock lasts until {@link #close}.
     *
     * @return {@code false} when another descriptor holds a conflicting lock
     */
    public boolean tryLock(boolean exclusive) throws IOException {
        closing.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            MemorySegment capture = LibC.captureSegment(arena);
            int operation = (exclusive ? LibC.LOCK_EX : LibC.LOCK_SH) | LibC.LOCK_NB;
            int result;
            do {
                result = LibC.flock(capture, fd, operation);
            } while (result < 0 && LibC.errno(capture) == LibC.EINTR);
            if (result == 0) {
                return true;
            }
            int errno = LibC.errno(capture);
            if (errno == LibC.EAGAIN) {
                return false;
            }
            throw failure("flock", errno);
        } finally {
            closing.readLock().unlock();
        }
    }

    @Override
    public void close() throws IOException {
        closing.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            closeDescriptor(path, fd);
        } finally {
            closing.writeLock().unlock();
        }
    }

    private long seek(long offset, int whence, String name) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException(path + ": negative offset " + offset + " for " + name);
        }
        if (!seekData) {
            return seekWithoutHoles(offset, whence);
        }
        closing.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            MemorySegment capture = LibC.captureSegment(arena);
            long result = LibC.lseek(capture, fd, offset, whence);
            if (result >= 0) {
                return result;
            }
            int errno = LibC.errno(capture);
            if (errno == LibC.ENXIO) {
                return -1;
            }
            throw failure("lseek(" + name + ") at offset " + offset, errno);
        } finally {
            closing.readLock().unlock();
        }
    }

    /** The answer of a filesystem without holes: all data up to the end of the file. */
    private long seekWithoutHoles(long offset, int whence) throws IOException {
        long end = fileSize();
        if (offset >= end) {
            return -1;
        }
        return whence == LibC.SEEK_DATA ? offset : end;
    }

    private long fileSize() throws IOException {
        closing.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            MemorySegment capture = LibC.captureSegment(arena);
            long end = LibC.lseek(capture, fd, 0, SEEK_END);
            if (end < 0) {
                throw failure("lseek(SEEK_END)", LibC.errno(capture));
            }
            return end;
        } finally {
            closing.readLock().unlock();
        }
    }

    /** Runs fallocate, retrying interrupted calls; returns 0 or the errno. */
    private int fallocate(int mode, long offset, long length) throws IOException {
        closing.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            checkOpen();
            MemorySegment capture = LibC.captureSegment(arena);
            int result;
            do {
                result = LibC.fallocate(capture, fd, mode, offset, length);
            } while (result < 0 && LibC.errno(capture) == LibC.EINTR);
            return result == 0 ? 0 : LibC.errno(capture);
        } finally {
            closing.readLock().unlock();
        }
    }

    /**
     * Punches one byte past the end of a regular file: a no-op where holes are supported (the
     * size is kept), EOPNOTSUPP where they are not. Nothing readable changes either way. Block
     * devices refuse ranges past their end (EINVAL), so for them support is assumed and learned
     * on first use, like {@link #zeroRange}.
     */
    private boolean probePunchHole() throws IOException {
        int errno = fallocate(LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, fileSize(), 1);
        if (errno == 0) {
            return true;
        }
        if (unsupported(errno)) {
            return false;
        }
        throw failure("fallocate(PUNCH_HOLE) probe past the end of the file", errno);
    }

    /** Filesystems without SEEK_DATA answer EINVAL; ENXIO just means no data (an empty file). */
    private boolean probeSeekData() throws IOException {
        closing.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = LibC.captureSegment(arena);
            long result = LibC.lseek(capture, fd, 0, LibC.SEEK_DATA);
            if (result >= 0) {
                return true;
            }
            int errno = LibC.errno(capture);
            if (errno == LibC.ENXIO) {
                return true;
            }
            if (errno == LibC.EINVAL) {
                return false;
            }
            throw failure("lseek(SEEK_DATA) probe", errno);
        } finally {
            closing.readLock().unlock();
        }
    }

    private static boolean unsupported(int errno) {
        return errno == LibC.EOPNOTSUPP || errno == LibC.ENOSYS;
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException(path + ": host file is closed");
        }
    }

    private void checkWritableRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(path + ": bad range " + offset + "+" + length);
        }
        if (!writable) {
            throw new IllegalStateException(path + ": host file is open read-only");
        }
    }

    private IOException failure(String call, int errno) {
        String message = path + ": " + call + ": " + describe(errno);
        return errno == LibC.ENOSPC ? new NoSpaceException(message) : new IOException(message);
    }

    private static String describe(int errno) {
        return LibC.strerror(errno) + " (errno " + errno + ")";
    }

    private static void closeDescriptor(Path path, int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = LibC.captureSegment(arena);
            // close(2) must not be retried on EINTR on Linux: the descriptor is gone either way.
            if (LibC.close(capture, fd) < 0 && LibC.errno(capture) != LibC.EINTR) {
                throw new IOException(path + ": close: " + describe(LibC.errno(capture)));
            }
        }
    }
}
