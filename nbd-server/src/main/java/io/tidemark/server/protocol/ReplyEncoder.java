package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.util.ReferenceCountUtil;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes {@link Reply} records. Headers of one reply share one small buffer; data buffers are
 * passed through untouched so the socket writes them with a gathering write, without a copy.
 * A reply that fails to encode (a header buffer could not be had) is dropped whole: Netty would
 * write whatever part of it was encoded, and the data of the chunks not reached would leak.
 */
public final class ReplyEncoder extends MessageToMessageEncoder<Reply> {

    private static final int SIMPLE_HEADER_LENGTH = 16;
    private static final int CHUNK_HEADER_LENGTH = 20;

    public ReplyEncoder() {
        super(Reply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Reply msg, List<Object> out) {
        try {
            encodeReply(ctx, msg, out);
        } catch (RuntimeException | Error e) {
            discard(msg, out);
            throw e;
        }
    }

    /**
     * Releases the header buffers encoded so far and every data buffer of {@code reply} (each
     * exactly once, whether or not it had reached {@code out}), and empties {@code out}.
     */
    private static void discard(Reply reply, List<Object> out) {
        for (Object o : out) {
            if (!reply.hasData(o)) {
                ReferenceCountUtil.release(o);
            }
        }
        out.clear();
        reply.releaseData();
    }

    private static void encodeReply(ChannelHandlerContext ctx, Reply msg, List<Object> out) {
        switch (msg) {
            case Reply.Simple s -> {
                out.add(simpleHeader(ctx, s.error(), s.cookie()));
                if (s.data() != null) {
                    out.add(s.data());
                }
            }
            case Reply.SimpleFile s -> {
                out.add(simpleHeader(ctx, 0, s.cookie()));
                out.add(s.data());
            }
            case Reply.Structured r -> encodeStructured(ctx, r, out);
            case Reply.Extended r -> ExtendedReplyEncoder.encode(ctx.alloc(), r, out);
        }
    }

    private static ByteBuf simpleHeader(ChannelHandlerContext ctx, int error, long cookie) {
        ByteBuf header = ctx.alloc().directBuffer(SIMPLE_HEADER_LENGTH);
        header.writeInt(Magic.SIMPLE_REPLY);
        header.writeInt(error);
        header.writeLong(cookie);
        return header;
    }

    private static void encodeStructured(ChannelHandlerContext ctx, Reply.Structured reply, List<Object> out) {
        List<Reply.Chunk> chunks = reply.chunks();
        ByteBuf headers = null;
        for (int i = 0; i < chunks.size(); i++) {
            Reply.Chunk chunk = chunks.get(i);
            if (headers == null) {
                headers = ctx.alloc().directBuffer(64);
                out.add(headers);
            }
            headers.writeInt(Magic.STRUCTURED_REPLY);
            headers.writeShort(i == chunks.size() - 1 ? ReplyChunk.FLAG_DONE : 0);
            headers.writeShort(chunk.type());
            headers.writeLong(reply.cookie());
            switch (chunk) {
                case Reply.None n -> headers.writeInt(0);
                case Reply.OffsetData d -> {
                    headers.writeInt(Long.BYTES + d.data().readableBytes());
                    headers.writeLong(d.offset());
                    out.add(d.data());
                    headers = null;
                }
                case Reply.OffsetFile f -> {
                    headers.writeInt(Math.toIntExact(Long.BYTES + f.data().count()));
                    headers.writeLong(f.offset());
                    out.add(f.data());
                    headers = null;
                }
                case Reply.OffsetHole h -> {
                    headers.writeInt(Long.BYTES + Integer.BYTES);
                    headers.writeLong(h.offset());
                    headers.writeInt(h.length());
                }
                case Reply.BlockStatus b -> {
                    headers.writeInt(Integer.BYTES + 2 * Integer.BYTES * b.descriptors().size());
                    headers.writeInt(b.contextId());
                    for (Reply.StatusDescriptor descriptor : b.descriptors()) {
                        headers.writeInt((int) descriptor.length());
                        headers.writeInt(descriptor.flags());
                    }
                }
                case Reply.Error e -> {
                    String message = truncate(e.message());
                    int messageLength = ByteBufUtil.utf8Bytes(message);
                    headers.writeInt(Integer.BYTES + Short.BYTES + messageLength);
                    headers.writeInt(e.error());
                    headers.writeShort(messageLength);
                    headers.writeCharSequence(message, StandardCharsets.UTF_8);
                }
            }
        }
    }

    /** Error messages are strings, bounded like every string by {@link ProtocolLimits#MAX_STRING} bytes. */
    static String truncate(String message) {
        String m = message;
        while (ByteBufUtil.utf8Bytes(m) > ProtocolLimits.MAX_STRING) {
            m = m.substring(0, m.length() / 2);
        }
        return m;
    }
}
