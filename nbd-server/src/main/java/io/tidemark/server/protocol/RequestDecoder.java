package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import java.util.List;

/**
 * Turns transmission-phase bytes into {@link Request} records. A WRITE's data rides along as a
 * retained slice; data longer than {@link ProtocolLimits#MAX_PAYLOAD} is skipped as it arrives
 * (so the stream stays in step) and the request is passed on without payload for the handler
 * to refuse. A wrong request magic is a framing error.
 */
public final class RequestDecoder extends ByteToMessageDecoder {

    private enum State { HEADER, PAYLOAD, SKIP_PAYLOAD, BROKEN }

    private State state = State.HEADER;
    private int flags;
    private int command;
    private long cookie;
    private long offset;
    private long length;
    private long toSkip;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> decodeHeader(in, out);
            case PAYLOAD -> decodePayload(in, out);
            case SKIP_PAYLOAD -> {
                int skipped = (int) Math.min(in.readableBytes(), toSkip);
                in.skipBytes(skipped);
                toSkip -= skipped;
                if (toSkip == 0) {
                    out.add(new Request(flags, command, cookie, offset, length, null));
                    state = State.HEADER;
                }
            }
            // after a framing error nothing that follows is a request, not even when the channel closes
            case BROKEN -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodePayload(ByteBuf in, List<Object> out) {
        if (in.readableBytes() >= length) {
            out.add(new Request(flags, command, cookie, offset, length, in.readRetainedSlice((int) length)));
            state = State.HEADER;
        }
    }

    private void decodeHeader(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < ProtocolLimits.REQUEST_HEADER_LENGTH) {
            return;
        }
        int magic = in.readInt();
        if (magic != Magic.REQUEST) {
            state = State.BROKEN;
            throw new ProtocolViolationException(String.format("bad request magic 0x%08x (expected 0x%08x)", magic,
                    Magic.REQUEST));
        }
        flags = in.readUnsignedShort();
        command = in.readUnsignedShort();
        cookie = in.readLong();
        offset = in.readLong();
        length = in.readUnsignedInt();
        if (command != Command.WRITE) {
            out.add(new Request(flags, command, cookie, offset, length, null));
        } else if (length <= ProtocolLimits.MAX_PAYLOAD) {
            state = State.PAYLOAD;
            decodePayload(in, out);
        } else {
            toSkip = length;
            state = State.SKIP_PAYLOAD;
        }
    }
}
