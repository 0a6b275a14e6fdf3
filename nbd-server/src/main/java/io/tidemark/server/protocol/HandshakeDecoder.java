package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Turns the client's side of the handshake into records: first {@link ClientFlags}, then one
 * {@link OptionRequest} per option. Option data larger than {@link ProtocolLimits#MAX_OPTION_DATA}
 * is skipped as it arrives, never buffered. A wrong option magic is a framing error.
 */
public final class HandshakeDecoder extends ByteToMessageDecoder {

    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, SKIP_OPTION_DATA, BROKEN }

    private State state = State.CLIENT_FLAGS;
    private int option;
    private long optionLength;
    private long toSkip;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case CLIENT_FLAGS -> {
                if (in.readableBytes() >= Integer.BYTES) {
                    out.add(new ClientFlags(in.readInt()));
                    state = State.OPTION_HEADER;
                }
            }
            case OPTION_HEADER -> {
                // data follows the header at once so that an empty option is emitted in the same call
                if (decodeHeader(in)) {
                    decodeData(in, out);
                }
            }
            case OPTION_DATA -> decodeData(in, out);
            case SKIP_OPTION_DATA -> {
                int skipped = (int) Math.min(in.readableBytes(), toSkip);
                in.skipBytes(skipped);
                toSkip -= skipped;
                if (toSkip == 0) {
                    out.add(new OptionRequest.Oversized(option, optionLength));
                    state = State.OPTION_HEADER;
                }
            }
            // after a framing error nothing that follows is an option, not even when the channel closes
            case BROKEN -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeData(ByteBuf in, List<Object> out) {
        if (in.readableBytes() >= optionLength) {
            out.add(OptionParser.parse(option, in.readSlice((int) optionLength)));
            state = State.OPTION_HEADER;
        }
    }

    /** Reads an option header; true when data of acceptable length follows. */
    private boolean decodeHeader(ByteBuf in) {
        if (in.readableBytes() < ProtocolLimits.OPTION_HEADER_LENGTH) {
            return false;
        }
        long magic = in.readLong();
        if (magic != NbdProtocol.Magic.IHAVEOPT) {
            state = State.BROKEN;
            throw new ProtocolViolationException("bad option magic 0x" + Long.toHexString(magic)
                    + " (expected IHAVEOPT 0x" + Long.toHexString(NbdProtocol.Magic.IHAVEOPT) + ")");
        }
        option = in.readInt();
        optionLength = in.readUnsignedInt();
        if (optionLength > ProtocolLimits.MAX_OPTION_DATA) {
            toSkip = optionLength;
            state = State.SKIP_OPTION_DATA;
            return false;
        }
        state = State.OPTION_DATA;
        return true;
    }
}
