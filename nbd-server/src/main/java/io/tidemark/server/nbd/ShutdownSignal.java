package io.tidemark.server.nbd;

/**
 * Set once when the server begins a graceful shutdown. Handlers read it to answer new options
 * with NBD_REP_ERR_SHUTDOWN and new requests with ESHUTDOWN while in-flight work finishes.
 */
public final class ShutdownSignal {

    private volatile boolean shuttingDown;

    public void begin() {
        shuttingDown = true;
    }

    public boolean isShuttingDown() {
        return shuttingDown;
    }
}
