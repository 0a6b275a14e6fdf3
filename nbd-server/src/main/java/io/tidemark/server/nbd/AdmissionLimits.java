package io.tidemark.server.nbd;

import java.time.Duration;

/**
 * How many clients a server lets in, and how long a quiet one may stay. Together with
 * {@link ConnectionLimits} (per-connection memory, handshake time) and the option limit of
 * {@link io.tidemark.server.protocol.ProtocolLimits}, these bound what many clients can make
 * the server hold.
 *
 * @param maxConnections          open connections per server, negotiating or transmitting
 * @param maxConnectionsPerExport connections in transmission per export
 * @param idleTimeout             a connection that neither sends nor receives for this long is
 *                                closed; zero means never
 */
public record AdmissionLimits(int maxConnections, int maxConnectionsPerExport, Duration idleTimeout) {

    /** Far above what one host's VMs open (qemu uses one to a few per disk), well below file-descriptor limits. */
    public static final int DEFAULT_MAX_CONNECTIONS = 512;
    /** Room for multi-conn clients (nbdcopy, fio with several jobs) and a few readers per export. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_EXPORT = 64;
    /** Never: a kernel nbd-client under a quiet, mounted filesystem can go days without a request. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ZERO;

    public static final AdmissionLimits DEFAULT = new AdmissionLimits(DEFAULT_MAX_CONNECTIONS,
            DEFAULT_MAX_CONNECTIONS_PER_EXPORT, DEFAULT_IDLE_TIMEOUT);

    public AdmissionLimits {
        if (maxConnections < 1 || maxConnectionsPerExport < 1) {
            throw new IllegalArgumentException("connection limits must be positive: " + maxConnections + ", "
                    + maxConnectionsPerExport);
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idle timeout must not be negative: " + idleTimeout);
        }
    }
}
