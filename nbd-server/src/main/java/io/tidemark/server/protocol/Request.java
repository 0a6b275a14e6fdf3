package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;

/**
 * One transmission-phase request. {@code length} is unsigned: the compact header's 32-bit field
 * widened to a long, or the extended header's 64-bit field (read it with the unsigned methods of
 * {@link Long}). {@code payload} holds a WRITE's data and is null for every other command (an
 * extended request's payload on another command is skipped) and for a WRITE whose data exceeded
 * {@link ProtocolLimits#MAX_PAYLOAD} (the decoder skipped it); whoever consumes the request
 * releases the payload.
 */
public record Request(int flags, int command, long cookie, long offset, long length, ByteBuf payload) {

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** Releases the WRITE payload, if any; safe to call once per request. */
    public void releasePayload() {
        if (payload != null) {
            payload.release();
        }
    }

    @Override
    public String toString() {
        return Command.name(command) + "[cookie=" + Long.toHexString(cookie) + ", offset=" + Long.toUnsignedString(offset)
                + ", length=" + Long.toUnsignedString(length) + ", flags=" + CommandFlags.describe(flags) + "]";
    }
}
