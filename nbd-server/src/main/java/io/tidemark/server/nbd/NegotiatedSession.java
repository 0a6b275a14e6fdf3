package io.tidemark.server.nbd;

import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;

/**
 * What the handshake settled for the transmission phase.
 *
 * @param structuredReplies    whether replies are made of chunks: NBD_OPT_STRUCTURED_REPLY or
 *                             NBD_OPT_EXTENDED_HEADERS was negotiated
 * @param extendedHeaders      whether NBD_OPT_EXTENDED_HEADERS was negotiated: 32-byte headers
 *                             both ways, 64-bit lengths, and no simple replies (implies
 *                             {@code structuredReplies})
 * @param blockStatusContextId the id of {@code base:allocation} if the client selected it for
 *                             this export, else {@link #NO_CONTEXT}
 */
record NegotiatedSession(Export export, boolean structuredReplies, boolean extendedHeaders, int transmissionFlags,
        int blockStatusContextId) {

    static final int NO_CONTEXT = 0;

    NegotiatedSession {
        if (extendedHeaders && !structuredReplies) {
            throw new IllegalArgumentException("extended headers carry structured replies");
        }
    }

    boolean advertises(int transmissionFlag) {
        return (transmissionFlags & transmissionFlag) != 0;
    }

    boolean readOnly() {
        return advertises(TransmissionFlags.READ_ONLY);
    }
}
