package io.tidemark.server.nbd;

import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;

/**
 * What the handshake settled for the transmission phase.
 *
 * @param blockStatusContextId the id of {@code base:allocation} if the client selected it for
 *                             this export, else {@link #NO_CONTEXT}
 */
record NegotiatedSession(Export export, boolean structuredReplies, int transmissionFlags, int blockStatusContextId) {

    static final int NO_CONTEXT = 0;

    boolean advertises(int transmissionFlag) {
        return (transmissionFlags & transmissionFlag) != 0;
    }

    boolean readOnly() {
        return advertises(TransmissionFlags.READ_ONLY);
    }
}
