package io.tidemark.server.nbd;

/**
 * What a client must do to be let in, and how many are: TLS (required or allowed), an export's
 * allow-list, and the server's connection limits.
 */
public record ClientPolicy(TlsSettings tls, ExportAccess access, AdmissionLimits admission) {

    /** No TLS, every export open to everyone, default connection limits. */
    public static final ClientPolicy OPEN = new ClientPolicy(TlsSettings.OFF, ExportAccess.OPEN);

    /** With the default {@link AdmissionLimits}. */
    public ClientPolicy(TlsSettings tls, ExportAccess access) {
        this(tls, access, AdmissionLimits.DEFAULT);
    }
}
