package io.tidemark.server.nbd;

import java.util.Locale;

/** Whether clients may, or must, upgrade the connection with NBD_OPT_STARTTLS. */
public enum TlsMode {
    /** No TLS: NBD_OPT_STARTTLS is answered NBD_REP_ERR_UNSUP. */
    OFF,
    /** Plain and TLS clients are both served. */
    ALLOW,
    /** Every option but STARTTLS and ABORT is refused with NBD_REP_ERR_TLS_REQD until TLS is up. */
    REQUIRE;

    /** Parses {@code off}, {@code allow} or {@code require}, in any case. */
    public static TlsMode parse(String text) {
        try {
            return valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS mode must be off, allow or require, got '" + text + "'");
        }
    }
}
