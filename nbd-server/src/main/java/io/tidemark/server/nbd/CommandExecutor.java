package io.tidemark.server.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ZeroMode;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.MetaContext;
import io.tidemark.server.protocol.ProtocolLimits;
import io.tidemark.server.protocol.Reply;
import io.tidemark.server.protocol.Request;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * Runs one validated request against the export's device, on an I/O thread (or, when it needs
 * no waiting, on the event loop: {@link #executeIfQuick}), and builds its reply; one method per
 * command. READ data stored plainly in the device's file goes to the socket as a file region
 * (sendfile, {@link ZeroCopyReads}); other data goes from the device into a pooled direct buffer
 * that the reply encoder hands to the socket.
 */
final class CommandExecutor {

    /**
     * Reads shorter than this skip the extent lookup: the few bytes a hole chunk could save do not
     * pay for asking the device (two lseek calls per read on a raw file).
     */
    static final int SPARSE_READ_MINIMUM = 64 * 1024;

    /**
     * READs shorter than this may be answered on the event loop when the page cache holds their
     * bytes ({@link #readIfCached}): handing a 4 KiB read to an I/O thread and its reply back cost
     * more than the read. Longer ones go to the I/O thread, and from 64 KiB on go out by sendfile
     * (answering cached ones from the event loop too, found with cachestat, cut 1 MiB sequential
     * reads from 5.5 to 3.5 GiB/s: the replies then left in bursts of a whole queue depth).
     */
    static final int CACHED_READ_MAXIMUM = 64 * 1024;

    /**
     * WRITE payloads up to this long may be written on the event loop ({@link #executeIfQuick}):
     * copying them into the page cache takes a fraction of a millisecond. Handing 4 KiB writes
     * to an I/O thread and their replies back took half the server's CPU time (fio, 4 KiB random
     * overwrites of a thin image at depth 32: 18.1 CPU s/GiB handed off, 8.9 on the event loop).
     */
    static final int QUICK_WRITE_MAXIMUM = 2 * 1024 * 1024;

    /**
     * A write on the event loop that took longer than this stalled every connection the loop
     * serves; the host is throttling or the disk is slow, so this connection's writes go to the
     * I/O threads for the next {@link #SLOW_WRITE_BACKOFF_NANOS}. The clock also runs while the
     * thread waits for a core: at 2 ms, four connections writing 4 KiB blocks into holes on two
     * cores kept tripping it and spent most of their writes on the I/O threads (fio 4 jobs × qd8,
     * six alternated runs: 62 kIOPS at 6.1 CPU s/GiB against 74 kIOPS at 5.0 with 10 ms, medians).
     */
    static final long SLOW_QUICK_WRITE_NANOS = 10_000_000;

    static final long SLOW_WRITE_BACKOFF_NANOS = 1_000_000_000;

    private final NegotiatedSession session;
    private final BlockDevice device;
    private final GroupCommit commit;
    private final ByteBufAllocator alloc;
    private final ZeroCopyReads zeroCopy;
    /** When writes may again run on the event loop (System.nanoTime), after a slow one; event loop only. */
    private long quickWritesFrom = System.nanoTime();

    /** @param zeroCopy whether READ data may go out as file regions (not under TLS) */
    CommandExecutor(NegotiatedSession session, GroupCommit commit, ByteBufAllocator alloc, boolean zeroCopy) {
        this.session = session;
        this.device = session.export().device();
        this.commit = commit;
        this.alloc = alloc;
        this.zeroCopy = new ZeroCopyReads(device, zeroCopy);
    }

    Reply execute(Request r) throws IOException {
        return switch (r.command()) {
            case Command.READ -> session.structuredReplies() ? structuredRead(r) : simpleRead(r);
            case Command.WRITE -> write(r);
            case Command.FLUSH -> flush(r);
            case Command.TRIM -> trim(r);
            case Command.CACHE -> cache(r);
            case Command.WRITE_ZEROES -> writeZeroes(r);
            case Command.BLOCK_STATUS -> blockStatus(r);
            default -> throw new IllegalArgumentException("command " + Command.name(r.command()) + " reached the executor");
        };
    }

    /**
     * The reply to a request the event loop can serve itself, without waiting for the disk: a
     * short READ whose bytes the page cache holds, or a WRITE the device takes without waiting
     * ({@link BlockDevice#writeIfQuick}). Null when the request must go to an I/O thread.
     */
    Reply executeIfQuick(Request r) throws IOException {
        return switch (r.command()) {
            case Command.READ -> readIfCached(r);
            case Command.WRITE -> writeIfQuick(r);
            default -> null;
        };
    }

    private Reply readIfCached(Request r) throws IOException {
        if (r.length() == 0 || r.length() >= CACHED_READ_MAXIMUM) {
            return null;
        }
        int length = (int) r.length();
        ByteBuf buf = alloc.directBuffer(length, length);
        boolean read = false;
        try {
            read = device.readIfCached(r.offset(), buf.nioBuffer(0, length));
        } finally {
            if (!read) {
                buf.release();
            }
        }
        if (!read) {
            return null;
        }
        buf.writerIndex(length);
        // short structured reads are one data chunk anyway (SPARSE_READ_MINIMUM)
        return session.structuredReplies() ? chunked(r, List.of(new Reply.OffsetData(r.offset(), buf)))
                : new Reply.Simple(r.cookie(), 0, buf);
    }

    /**
     * A WRITE without FUA, when the device can take it at once. A write the host stalled (dirty
     * pages throttled, say) sends this connection's writes to the I/O threads for a while.
     */
    private Reply writeIfQuick(Request r) throws IOException {
        if (r.length() == 0 || r.length() > QUICK_WRITE_MAXIMUM || r.hasFlag(CommandFlags.FUA)) {
            return null;
        }
        long start = System.nanoTime();
        if (start - quickWritesFrom < 0) {
            return null;
        }
        if (!device.writeIfQuick(r.offset(), r.payload().nioBuffers())) {
            return null;
        }
        long end = System.nanoTime();
        if (end - start > SLOW_QUICK_WRITE_NANOS) {
            quickWritesFrom = end + SLOW_WRITE_BACKOFF_NANOS;
        }
        return ok(r);
    }

    /** The reply that reports {@code error}: structured when negotiated (it carries the message). */
    Reply error(Request r, int error, String message) {
        if (session.structuredReplies()) {
            return chunked(r, List.of(new Reply.Error(error, message)));
        }
        return new Reply.Simple(r.cookie(), error, null);
    }

    /** A reply of chunks, under structured headers or, when negotiated, extended ones. */
    private Reply chunked(Request r, List<Reply.Chunk> chunks) {
        if (session.extendedHeaders()) {
            return new Reply.Extended(r.cookie(), r.offset(), chunks);
        }
        return new Reply.Structured(r.cookie(), chunks);
    }

    private Reply simpleRead(Request r) throws IOException {
        Optional<FileRegion> region = zeroCopy.region(r.offset(), (int) r.length());
        if (region.isPresent()) {
            return new Reply.SimpleFile(r.cookie(), region.get());
        }
        return new Reply.Simple(r.cookie(), 0, readData(r.offset(), (int) r.length()));
    }

    /** An OFFSET_DATA chunk: sent from the file when it is stored plainly there, else read into a buffer. */
    private Reply.Chunk dataChunk(long offset, int length) throws IOException {
        Optional<FileRegion> region = zeroCopy.region(offset, length);
        if (region.isPresent()) {
            return new Reply.OffsetFile(offset, region.get());
        }
        return new Reply.OffsetData(offset, readData(offset, length));
    }

    /**
     * A structured READ: data runs as OFFSET_DATA, runs that read as zeroes as OFFSET_HOLE. With
     * DF, a device that cannot tell holes, or a short read, one OFFSET_DATA chunk with the zeroes in it.
     */
    private Reply structuredRead(Request r) throws IOException {
        if (r.length() == 0) {
            return chunked(r, List.of(new Reply.None()));
        }
        if (r.hasFlag(CommandFlags.DF) || !device.capabilities().extents() || r.length() < SPARSE_READ_MINIMUM) {
            return chunked(r, List.of(dataChunk(r.offset(), (int) r.length())));
        }
        List<Run> runs = runs(r.offset(), r.length(), Integer.MAX_VALUE, CommandExecutor::zeroKey);
        List<Reply.Chunk> chunks = new ArrayList<>(runs.size());
        try {
            for (Run run : runs) {
                chunks.add(run.key() == 1 ? new Reply.OffsetHole(run.offset(), (int) run.length())
                        : dataChunk(run.offset(), (int) run.length()));
            }
        } catch (IOException | RuntimeException e) {
            if (!chunks.isEmpty()) {
                chunked(r, chunks).releaseData();
            }
            throw e;
        }
        return chunked(r, chunks);
    }

    private ByteBuf readData(long offset, int length) throws IOException {
        if (length == 0) {
            return Unpooled.EMPTY_BUFFER;
        }
        ByteBuf buf = alloc.directBuffer(length, length);
        try {
            device.read(offset, buf.nioBuffer(0, length));
            buf.writerIndex(length);
            return buf;
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    /** A payload in parts (see {@code RequestDecoder}) goes to the device as its parts: merging them would copy it. */
    private Reply write(Request r) throws IOException {
        if (r.length() > 0) {
            device.write(r.offset(), r.payload().nioBuffers(), false);
        }
        return durableIfFua(r);
    }

    private Reply flush(Request r) throws IOException {
        commit.flush();
        return ok(r);
    }

    /**
     * FUA is a flush after the command, shared with concurrent FLUSH and FUA requests (a flush
     * makes every completed write durable, so it is all FUA asks for).
     */
    private Reply durableIfFua(Request r) throws IOException {
        if (r.hasFlag(CommandFlags.FUA)) {
            commit.flush();
        }
        return ok(r);
    }

    private Reply trim(Request r) throws IOException {
        if (r.length() > 0) {
            device.trim(r.offset(), r.length(), false);
        }
        return durableIfFua(r);
    }

    private Reply cache(Request r) throws IOException {
        if (r.length() > 0) {
            device.cache(r.offset(), r.length());
        }
        return ok(r);
    }

    private Reply writeZeroes(Request r) throws IOException {
        if (r.length() > 0) {
            ZeroMode mode = new ZeroMode(!r.hasFlag(CommandFlags.NO_HOLE), r.hasFlag(CommandFlags.FAST_ZERO));
            device.writeZeroes(r.offset(), r.length(), mode, false);
        }
        return durableIfFua(r);
    }

    /**
     * NBD_CMD_BLOCK_STATUS for base:allocation: the device's extents merged into runs of equal
     * status, at most {@link ProtocolLimits#MAX_BLOCK_STATUS_DESCRIPTORS} (one with REQ_ONE).
     * Each run is at least one byte, so the client always makes progress.
     */
    private Reply blockStatus(Request r) throws IOException {
        int limit = r.hasFlag(CommandFlags.REQ_ONE) ? 1 : ProtocolLimits.MAX_BLOCK_STATUS_DESCRIPTORS;
        List<Reply.StatusDescriptor> descriptors = new ArrayList<>();
        if (device.capabilities().extents()) {
            for (Run run : runs(r.offset(), r.length(), limit, CommandExecutor::allocationFlags)) {
                descriptors.add(new Reply.StatusDescriptor(run.length(), run.key()));
            }
        } else {
            descriptors.add(new Reply.StatusDescriptor(r.length(), 0));
        }
        return chunked(r, List.of(new Reply.BlockStatus(session.blockStatusContextId(), descriptors)));
    }

    private static int allocationFlags(ExtentType type) {
        return switch (type) {
            case DATA -> 0;
            case ZERO -> MetaContext.STATE_ZERO;
            case HOLE -> MetaContext.STATE_HOLE | MetaContext.STATE_ZERO;
        };
    }

    /** A run of bytes whose extents share one key: reads-as-zero (1) or not (0), or a status. */
    private record Run(long offset, long length, int key) {
    }

    private static int zeroKey(ExtentType type) {
        return type.readsAsZero() ? 1 : 0;
    }

    /**
     * Walks the device's extents over {@code [offset, offset + length)}, merging neighbours with
     * the same key, and stops after {@code maxRuns} runs (the last run is then complete only as
     * far as the walk went). Asks the device again where it stopped early.
     */
    private List<Run> runs(long offset, long length, int maxRuns, ToIntFunction<ExtentType> key) throws IOException {
        long end = offset + length;
        List<Run> runs = new ArrayList<>();
        long pos = offset;
        while (pos < end) {
            List<Extent> extents = device.extents(pos, end - pos);
            if (extents.isEmpty()) {
                throw new IOException("device returned no extents at offset " + pos);
            }
            for (Extent extent : extents) {
                if (extent.offset() != pos) {
                    throw new IOException("device returned extent " + extent + " where offset " + pos + " was due");
                }
                long runEnd = Math.min(extent.end(), end);
                int k = key.applyAsInt(extent.type());
                Run last = runs.isEmpty() ? null : runs.getLast();
                if (last != null && last.key() == k) {
                    runs.set(runs.size() - 1, new Run(last.offset(), runEnd - last.offset(), k));
                } else if (runs.size() == maxRuns) {
                    return runs;
                } else {
                    runs.add(new Run(pos, runEnd - pos, k));
                }
                pos = runEnd;
                if (pos >= end) {
                    break;
                }
            }
        }
        return runs;
    }

    /** Success without data: a simple reply, except under extended headers, which have none. */
    private Reply ok(Request r) {
        if (session.extendedHeaders()) {
            return new Reply.Extended(r.cookie(), r.offset(), List.of(new Reply.None()));
        }
        return new Reply.Simple(r.cookie(), 0, null);
    }
}
