package io.tidemark.it.hardening;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway X.509 PKI made with the {@code openssl} CLI when a test runs: a CA, a server
 * certificate for 127.0.0.1 and localhost, and a client certificate, laid out in the
 * directories libnbd and QEMU read ({@code ca-cert.pem}, {@code client-cert.pem},
 * {@code client-key.pem}). Keys are P-256 EC keys in PKCS#8, which Netty reads without extras.
 */
final class TestCertificates {

    static final String CLIENT_NAME = "tidemark-test-client";

    final Path caCert;
    final Path serverCert;
    final Path serverKey;
    /** ca-cert.pem only: a client that verifies the server and has no certificate of its own. */
    final Path anonymousClientDir;
    /** ca-cert.pem, client-cert.pem, client-key.pem. */
    final Path clientDir;

    private TestCertificates(Path dir) {
        caCert = dir.resolve("ca-cert.pem");
        serverCert = dir.resolve("server-cert.pem");
        serverKey = dir.resolve("server-key.pem");
        anonymousClientDir = dir.resolve("anonymous");
        clientDir = dir.resolve("client");
    }

    static TestCertificates create(Path dir) throws IOException, InterruptedException {
        TestCertificates c = new TestCertificates(dir);
        Path caKey = dir.resolve("ca-key.pem");
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", caKey.toString(), "-out", c.caCert.toString(), "-days", "2", "-subj", "/CN=tidemark test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        issue(dir, caKey, c.caCert, "server", "/CN=127.0.0.1",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n", c.serverKey, c.serverCert);
        Files.createDirectories(c.clientDir);
        issue(dir, caKey, c.caCert, "client", "/CN=" + CLIENT_NAME, "extendedKeyUsage=clientAuth\n",
                c.clientDir.resolve("client-key.pem"), c.clientDir.resolve("client-cert.pem"));
        Files.copy(c.caCert, c.clientDir.resolve("ca-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(c.anonymousClientDir);
        Files.copy(c.caCert, c.anonymousClientDir.resolve("ca-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
        return c;
    }

    private static void issue(Path dir, Path caKey, Path caCert, String name, String subject, String extensions,
            Path key, Path cert) throws IOException, InterruptedException {
        Path csr = dir.resolve(name + ".csr");
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, extensions);
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                key.toString(), "-out", csr.toString(), "-subj", subject);
        openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-out", cert.toString(), "-days", "2", "-extfile", ext.toString());
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
        }
    }
}
