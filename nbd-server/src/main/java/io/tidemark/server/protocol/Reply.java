package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCounted;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import java.util.ArrayList;
import java.util.List;

/**
 * One complete reply to a transmission request, encoded by {@link ReplyEncoder}. A reply is
 * written as a unit so that its chunks leave in one flush; data buffers pass to the encoder,
 * which hands them to the socket without copying.
 */
public sealed interface Reply {

    long cookie();

    /** Releases the data buffers of a reply that will not be written (its connection is gone). */
    default void releaseData() {
        dataParts().forEach(ReferenceCounted::release);
    }

    /** Whether {@code o} is one of this reply's data buffers or file regions (not a header). */
    default boolean hasData(Object o) {
        return dataParts().stream().anyMatch(part -> part == o);
    }

    /** The reply's data buffers and file regions, in the order they go out. */
    private List<ReferenceCounted> dataParts() {
        return switch (this) {
            case Simple s -> s.data() == null ? List.of() : List.of(s.data());
            case SimpleFile s -> List.of(s.data());
            case Structured r -> chunkData(r.chunks());
            case Extended r -> chunkData(r.chunks());
        };
    }

    private static List<ReferenceCounted> chunkData(List<Chunk> chunks) {
        List<ReferenceCounted> parts = new ArrayList<>();
        for (Chunk c : chunks) {
            switch (c) {
                case OffsetData d -> parts.add(d.data());
                case OffsetFile f -> parts.add(f.data());
                default -> { }
            }
        }
        return parts;
    }

    /** A simple reply: error code and, for a successful READ, the data. */
    record Simple(long cookie, int error, ByteBuf data) implements Reply {
    }

    /**
     * A successful simple READ reply whose data the socket sends straight from a file (sendfile),
     * without copying it through a buffer.
     */
    record SimpleFile(long cookie, FileRegion data) implements Reply {
    }

    /** A structured reply: one or more chunks of the same cookie, the last one flagged DONE. */
    record Structured(long cookie, List<Chunk> chunks) implements Reply {
        public Structured {
            chunks = List.copyOf(chunks);
            if (chunks.isEmpty()) {
                throw new IllegalArgumentException("a structured reply needs at least one chunk");
            }
        }
    }

    /**
     * The reply once NBD_OPT_EXTENDED_HEADERS is negotiated: chunks as in a structured reply, each
     * under a 32-byte header that repeats the request's {@code offset}. Every reply takes this
     * form then, a bare success too (one {@link None} chunk).
     */
    record Extended(long cookie, long offset, List<Chunk> chunks) implements Reply {
        public Extended {
            chunks = List.copyOf(chunks);
            if (chunks.isEmpty()) {
                throw new IllegalArgumentException("an extended reply needs at least one chunk");
            }
        }
    }

    /**
     * One chunk of a structured or extended reply; {@link #type} is a {@link ReplyChunk} constant
     * (the type it has under a structured header).
     */
    sealed interface Chunk {
        int type();
    }

    /** NBD_REPLY_TYPE_NONE: success with nothing more to say. */
    record None() implements Chunk {
        @Override
        public int type() {
            return ReplyChunk.NONE;
        }
    }

    /** NBD_REPLY_TYPE_OFFSET_DATA: the readable bytes of {@code data} are the export at {@code offset}. */
    record OffsetData(long offset, ByteBuf data) implements Chunk {
        @Override
        public int type() {
            return ReplyChunk.OFFSET_DATA;
        }
    }

    /** NBD_REPLY_TYPE_OFFSET_DATA whose bytes the socket sends straight from a file (sendfile). */
    record OffsetFile(long offset, FileRegion data) implements Chunk {
        @Override
        public int type() {
            return ReplyChunk.OFFSET_DATA;
        }
    }

    /** NBD_REPLY_TYPE_OFFSET_HOLE: {@code length} bytes at {@code offset} read as zeroes. */
    record OffsetHole(long offset, int length) implements Chunk {
        @Override
        public int type() {
            return ReplyChunk.OFFSET_HOLE;
        }
    }

    /**
     * The status of one metadata context: NBD_REPLY_TYPE_BLOCK_STATUS in a structured reply,
     * NBD_REPLY_TYPE_BLOCK_STATUS_EXT (64-bit lengths) in an extended one.
     */
    record BlockStatus(int contextId, List<StatusDescriptor> descriptors) implements Chunk {
        public BlockStatus {
            descriptors = List.copyOf(descriptors);
            if (descriptors.isEmpty()) {
                throw new IllegalArgumentException("a block status chunk needs at least one descriptor");
            }
        }

        @Override
        public int type() {
            return ReplyChunk.BLOCK_STATUS;
        }
    }

    /**
     * One block status descriptor: an unsigned length (never zero) and its status flags. A
     * structured reply carries the low 32 bits of the length, so there it must fit in 32 bits
     * (lengths are clipped to the request's, which does); an extended reply carries all 64.
     */
    record StatusDescriptor(long length, int flags) {
        public StatusDescriptor {
            if (length == 0) {
                throw new IllegalArgumentException("a status descriptor must not be empty");
            }
        }
    }

    /** NBD_REPLY_TYPE_ERROR: the request failed with {@code error}. */
    record Error(int error, String message) implements Chunk {
        @Override
        public int type() {
            return ReplyChunk.ERROR;
        }
    }
}
