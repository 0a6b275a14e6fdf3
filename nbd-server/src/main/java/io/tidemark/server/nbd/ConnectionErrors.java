package io.tidemark.server.nbd;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.tidemark.server.protocol.ProtocolViolationException;
import java.io.IOException;
import org.slf4j.Logger;

/** How a failed connection is logged: one line for what peers do, a stack trace only for our bugs. */
final class ConnectionErrors {

    private ConnectionErrors() {
    }

    static void log(Logger log, ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null
                && !(cause instanceof ProtocolViolationException) ? cause.getCause() : cause;
        if (root instanceof ProtocolViolationException) {
            log.info("{}: protocol violation, closing: {}", Peer.of(ctx.channel()), root.getMessage());
        } else if (root instanceof IOException) {
            log.debug("{}: connection error: {}", Peer.of(ctx.channel()), root.toString());
        } else {
            log.warn("{}: unexpected error, closing", Peer.of(ctx.channel()), root);
        }
    }
}
