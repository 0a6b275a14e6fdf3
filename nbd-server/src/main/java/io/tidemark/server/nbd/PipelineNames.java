package io.tidemark.server.nbd;

/** Names of the handlers in a connection's pipeline, so the handshake can swap its own out. */
final class PipelineNames {

    static final String IDLE = "idle";
    static final String FLUSH_CONSOLIDATION = "flushConsolidation";
    /** The handshake decoder; after GO the request decoder sits behind it until it leaves. */
    static final String DECODER = "handshakeDecoder";
    static final String REQUEST_DECODER = "requestDecoder";
    static final String ENCODER = "encoder";
    static final String HANDLER = "handler";

    private PipelineNames() {
    }
}
