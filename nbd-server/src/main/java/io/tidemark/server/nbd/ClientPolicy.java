package io.tidemark.server.nbd;

/** What a client must do to be let in: speak TLS (or may), and match an export's allow-list. */
public record ClientPolicy(TlsSettings tls, ExportAccess access) {

    /** No TLS, every export open to everyone. */
    public static final ClientPolicy OPEN = new ClientPolicy(TlsSettings.OFF, ExportAccess.OPEN);
}
