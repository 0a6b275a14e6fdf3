package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;

/**
 * One transmission-phase request. {@code length} is the unsigned 32-bit field widened to a long.
 * {@code payload} holds a WRITE's data and is null for every other command and for a WRITE whose
 * data exceeded {@link ProtocolLimits#MAX_PAYLOAD} (the decoder skipped it); whoever consumes
 * the request releases the payload.
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
                + ", length=" + length + ", flags=" + CommandFlags.describe(flags) + "]";
    }
}
