package io.tidemark.image.hostfile;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few Linux C library calls that {@link java.nio.channels.FileChannel} lacks, and the
 * positional read and write it wraps in costly bookkeeping, bound through the FFM API. Each call returns the raw result and leaves {@code errno} in the caller's capture
 * segment; {@link HostFile} turns failures into exceptions. Constants are Linux's (the same on
 * x86-64 and arm64).
 */
// Binding C functions is what this class is for; processes run with --enable-native-access.
@SuppressWarnings("restricted")
final class LibC {

    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    static final int LOCK_SH = 1;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;

    /** preadv2/pwritev2: fail with EAGAIN instead of waiting for the disk or a lock. */
    static final int RWF_NOWAIT = 0x08;

    static final int EINTR = 4;
    static final int ENXIO = 6;
    static final int EAGAIN = 11;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle FALLOCATE = bind("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle LSEEK = bind("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle PREAD = bind("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle PWRITE = bind("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle PREADV2 = bind("preadv2",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle FSTATFS = bind("fstatfs",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle FLOCK = bind("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle STRERROR = bind("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private LibC() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsupportedOperationException("the C library has no " + name + "()"));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** A segment to receive {@code errno}; one per call, allocated in the caller's arena. */
    static MemorySegment captureSegment(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    static int open(MemorySegment capture, MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(capture, path, flags, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int close(MemorySegment capture, int fd) {
        try {
            return (int) CLOSE.invokeExact(capture, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fallocate(MemorySegment capture, int fd, int mode, long offset, long length) {
        try {
            return (int) FALLOCATE.invokeExact(capture, fd, mode, offset, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long lseek(MemorySegment capture, int fd, long offset, int whence) {
        try {
            return (long) LSEEK.invokeExact(capture, fd, offset, whence);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long pread(MemorySegment capture, int fd, MemorySegment buffer, long count, long offset) {
        try {
            return (long) PREAD.invokeExact(capture, fd, buffer, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long pwrite(MemorySegment capture, int fd, MemorySegment buffer, long count, long offset) {
        try {
            return (long) PWRITE.invokeExact(capture, fd, buffer, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code preadv2} of one buffer: {@code iovec} is a 16-byte struct iovec the caller reuses. */
    static long preadv2(MemorySegment capture, int fd, MemorySegment iovec, MemorySegment buffer, long offset, int flags) {
        iovec.set(JAVA_LONG, 0, buffer.address());
        iovec.set(JAVA_LONG, Long.BYTES, buffer.byteSize());
        try {
            return (long) PREADV2.invokeExact(capture, fd, iovec, 1, offset, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** struct statfs is 120 bytes on x86-64 and arm64; f_type, the filesystem's magic number, comes first. */
    static final long STATFS_BYTES = 120;

    /** {@code fstatfs} into {@code statfs}, a segment of {@link #STATFS_BYTES}; returns 0 or -1 with errno set. */
    static int fstatfs(MemorySegment capture, int fd, MemorySegment statfs) {
        try {
            return (int) FSTATFS.invokeExact(capture, fd, statfs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int flock(MemorySegment capture, int fd, int operation) {
        try {
            return (int) FLOCK.invokeExact(capture, fd, operation);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The C library's text for an error number, e.g. "Operation not supported". */
    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "errno " + errno : text.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Downcalls throw nothing checked; anything else is a bug in a binding. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("native call failed", t);
    }
}
