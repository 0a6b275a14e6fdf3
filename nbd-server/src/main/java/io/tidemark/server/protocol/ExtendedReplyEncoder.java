package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a {@link Reply.Extended}, for {@link ReplyEncoder}: each chunk under the 32-byte
 * extended header (magic, flags, type, cookie, the request's offset, 64-bit payload length).
 * Block status goes out as NBD_REPLY_TYPE_BLOCK_STATUS_EXT with a descriptor count and 64-bit
 * lengths and status. As for structured replies, headers share one buffer and data buffers pass
 * through without a copy.
 */
final class ExtendedReplyEncoder {

    /** Context id and descriptor count before the descriptors of BLOCK_STATUS_EXT. */
    private static final int BLOCK_STATUS_EXT_PREFIX = 2 * Integer.BYTES;
    private static final int BLOCK_STATUS_EXT_DESCRIPTOR = 2 * Long.BYTES;

    private ExtendedReplyEncoder() {
    }

    static void encode(ByteBufAllocator alloc, Reply.Extended reply, List<Object> out) {
        List<Reply.Chunk> chunks = reply.chunks();
        ByteBuf headers = null;
        for (int i = 0; i < chunks.size(); i++) {
            Reply.Chunk chunk = chunks.get(i);
            if (headers == null) {
                headers = alloc.directBuffer(64);
                out.add(headers);
            }
            int flags = i == chunks.size() - 1 ? ReplyChunk.FLAG_DONE : 0;
            switch (chunk) {
                case Reply.None n -> header(headers, flags, ReplyChunk.NONE, reply, 0);
                case Reply.OffsetData d -> {
                    header(headers, flags, ReplyChunk.OFFSET_DATA, reply, Long.BYTES + d.data().readableBytes());
                    headers.writeLong(d.offset());
                    out.add(d.data());
                    headers = null;
                }
                case Reply.OffsetFile f -> {
                    header(headers, flags, ReplyChunk.OFFSET_DATA, reply, Long.BYTES + f.data().count());
                    headers.writeLong(f.offset());
                    out.add(f.data());
                    headers = null;
                }
                case Reply.OffsetHole h -> {
                    header(headers, flags, ReplyChunk.OFFSET_HOLE, reply, Long.BYTES + Integer.BYTES);
                    headers.writeLong(h.offset());
                    headers.writeInt(h.length());
                }
                case Reply.BlockStatus b -> {
                    int count = b.descriptors().size();
                    header(headers, flags, ReplyChunk.BLOCK_STATUS_EXT, reply,
                            BLOCK_STATUS_EXT_PREFIX + (long) BLOCK_STATUS_EXT_DESCRIPTOR * count);
                    headers.writeInt(b.contextId());
                    headers.writeInt(count);
                    for (Reply.StatusDescriptor descriptor : b.descriptors()) {
                        headers.writeLong(descriptor.length());
                        headers.writeLong(Integer.toUnsignedLong(descriptor.flags()));
                    }
                }
                case Reply.Error e -> {
                    String message = ReplyEncoder.truncate(e.message());
                    int messageLength = ByteBufUtil.utf8Bytes(message);
                    header(headers, flags, ReplyChunk.ERROR, reply, Integer.BYTES + Short.BYTES + messageLength);
                    headers.writeInt(e.error());
                    headers.writeShort(messageLength);
                    headers.writeCharSequence(message, StandardCharsets.UTF_8);
                }
            }
        }
    }

    private static void header(ByteBuf headers, int flags, int type, Reply.Extended reply, long payloadLength) {
        headers.writeInt(Magic.EXTENDED_REPLY);
        headers.writeShort(flags);
        headers.writeShort(type);
        headers.writeLong(reply.cookie());
        headers.writeLong(reply.offset());
        headers.writeLong(payloadLength);
    }
}
