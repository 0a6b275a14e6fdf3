package io.tidemark.server.protocol;

import io.netty.handler.codec.DecoderException;

/**
 * A framing error: the peer broke the protocol so that the byte stream can no longer be
 * followed (bad magic, unknown client flags). The connection is closed.
 */
public final class ProtocolViolationException extends DecoderException {

    public ProtocolViolationException(String message) {
        super(message);
    }
}
