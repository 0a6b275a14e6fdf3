package io.tidemark.server.nbd;

import io.tidemark.server.protocol.ProtocolLimits;
import java.time.Duration;

/**
 * How much one connection may have in flight before the server stops reading its socket, and
 * how long a client may take to finish the handshake.
 *
 * @param maxBytesInFlight   READ reply bytes plus WRITE payload bytes of requests being served;
 *                           a single request larger than this still runs, alone
 * @param maxRequestsInFlight requests being served at once
 * @param handshakeTimeout   a connection still negotiating after this long is closed
 */
public record ConnectionLimits(long maxBytesInFlight, int maxRequestsInFlight, Duration handshakeTimeout) {

    public static final ConnectionLimits DEFAULT =
            new ConnectionLimits(2L * ProtocolLimits.MAX_PAYLOAD, 256, Duration.ofSeconds(30));

    public ConnectionLimits {
        if (maxBytesInFlight < 1) {
            throw new IllegalArgumentException("maxBytesInFlight must be positive: " + maxBytesInFlight);
        }
        if (maxRequestsInFlight < 1) {
            throw new IllegalArgumentException("maxRequestsInFlight must be positive: " + maxRequestsInFlight);
        }
    }
}
