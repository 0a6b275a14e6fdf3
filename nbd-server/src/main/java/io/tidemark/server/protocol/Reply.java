package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
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
        switch (this) {
            case Simple s -> {
                if (s.data() != null) {
                    s.data().release();
                }
            }
            case Structured r -> r.chunks().forEach(c -> {
                if (c instanceof OffsetData d) {
                    d.data().release();
                }
            });
        }
    }

    /** A simple reply: error code and, for a successful READ, the data. */
    record Simple(long cookie, int error, ByteBuf data) implements Reply {
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

    /** One structured reply chunk; {@link #type} is a {@link ReplyChunk} constant. */
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

    /** NBD_REPLY_TYPE_OFFSET_HOLE: {@code length} bytes at {@code offset} read as zeroes. */
    record OffsetHole(long offset, int length) implements Chunk {
        @Override
        public int type() {
            return ReplyChunk.OFFSET_HOLE;
        }
    }

    /** NBD_REPLY_TYPE_BLOCK_STATUS for one metadata context. */
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

    /** One block status descriptor: an unsigned 32-bit length (never zero) and its status flags. */
    record StatusDescriptor(int length, int flags) {
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
