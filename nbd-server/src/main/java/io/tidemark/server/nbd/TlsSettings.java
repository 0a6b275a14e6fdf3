package io.tidemark.server.nbd;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * The server's TLS configuration: the mode and, unless off, the X.509 identity it presents and
 * the CA that client certificates must chain to (when given, a client without a valid
 * certificate cannot finish the TLS handshake).
 */
public record TlsSettings(TlsMode mode, SslContext context, boolean verifiesClients) {

    /** The protocol versions we accept; older ones have known weaknesses. */
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    public static final TlsSettings OFF = new TlsSettings(TlsMode.OFF, null, false);

    public TlsSettings {
        if (mode != TlsMode.OFF && context == null) {
            throw new IllegalArgumentException("TLS mode " + mode + " needs a certificate and key");
        }
    }

    /**
     * Builds settings from PEM files: a certificate chain, its PKCS#8 private key, and
     * optionally the CA certificates that client certificates are verified against.
     */
    public static TlsSettings fromPem(TlsMode mode, Path certificate, Path key, Path clientCa) throws IOException {
        if (mode == TlsMode.OFF) {
            return OFF;
        }
        if (certificate == null || key == null) {
            throw new IllegalArgumentException("--tls " + mode.name().toLowerCase(java.util.Locale.ROOT)
                    + " needs --tls-cert and --tls-key");
        }
        for (Path file : clientCa == null ? new Path[] {certificate, key} : new Path[] {certificate, key, clientCa}) {
            if (!Files.isReadable(file)) {
                throw new IOException("cannot read " + file);
            }
        }
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(certificate.toFile(), key.toFile())
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS);
            if (clientCa != null) {
                builder.trustManager(clientCa.toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            return new TlsSettings(mode, builder.build(), clientCa != null);
        } catch (SSLException | IllegalArgumentException e) {
            throw new IOException("cannot use TLS certificate " + certificate + " with key " + key + ": "
                    + e.getMessage(), e);
        }
    }
}
