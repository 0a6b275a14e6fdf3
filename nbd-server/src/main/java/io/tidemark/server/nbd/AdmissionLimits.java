package io.tidemark.server.nbd;

import io.netty.util.internal.PlatformDependent;
import io.tidemark.server.protocol.ProtocolLimits;
import java.time.Duration;

/**
 * How many clients a server lets in, how long a quiet one may stay, and how much request data
 * all of them together may make it hold. Together with {@link ConnectionLimits} (per-connection
 * memory, handshake time) and the option limit of {@link ProtocolLimits}, these bound what many
 * clients can make the server hold.
 *
 * @param maxConnections          open connections per server, negotiating or transmitting
 * @param maxConnectionsPerExport connections in transmission per export
 * @param idleTimeout             a connection that neither sends nor receives for this long is
 *                                closed; zero means never
 * @param maxBytesInFlight        WRITE payloads and READ replies held by all connections together
 *                                (see {@link InFlightMemory}); at least {@link ProtocolLimits#MAX_PAYLOAD}
 */
public record AdmissionLimits(int maxConnections, int maxConnectionsPerExport, Duration idleTimeout,
        long maxBytesInFlight) {

    /** Far above what one host's VMs open (qemu uses one to a few per disk), well below file-descriptor limits. */
    public static final int DEFAULT_MAX_CONNECTIONS = 512;
    /** Room for multi-conn clients (nbdcopy, fio with several jobs) and a few readers per export. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_EXPORT = 64;
    /** Never: a kernel nbd-client under a quiet, mounted filesystem can go days without a request. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ZERO;

    /**
     * Half the direct memory the JVM allows (by default its maximum heap), at least one maximal
     * payload: request data lives in direct buffers, and the other half is left for socket
     * buffers, the thin images' caches and what the cap lets one connection overshoot by.
     */
    public static final long DEFAULT_MAX_BYTES_IN_FLIGHT =
            Math.max(ProtocolLimits.MAX_PAYLOAD, PlatformDependent.maxDirectMemory() / 2);

    public static final AdmissionLimits DEFAULT = new AdmissionLimits(DEFAULT_MAX_CONNECTIONS,
            DEFAULT_MAX_CONNECTIONS_PER_EXPORT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BYTES_IN_FLIGHT);

    public AdmissionLimits {
        if (maxConnections < 1 || maxConnectionsPerExport < 1) {
            throw new IllegalArgumentException("connection limits must be positive: " + maxConnections + ", "
                    + maxConnectionsPerExport);
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idle timeout must not be negative: " + idleTimeout);
        }
        if (maxBytesInFlight < ProtocolLimits.MAX_PAYLOAD) {
            throw new IllegalArgumentException("server-wide bytes in flight (" + maxBytesInFlight
                    + ") must be at least the maximum payload (" + ProtocolLimits.MAX_PAYLOAD + ")");
        }
    }
}
