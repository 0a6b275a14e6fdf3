package io.tidemark.it.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD_OPT_STARTTLS with real clients: {@code nbdinfo nbds://…} (libnbd, GnuTLS) and
 * {@code qemu-img}/{@code qemu-io} with a {@code tls-creds-x509} object, against
 * {@code tidemark serve --tls …} with certificates made by the test.
 */
class TlsIT {

    private static final int OPT_EXPORT_NAME = 1;
    private static final int OPT_ABORT = 2;
    private static final int OPT_LIST = 3;
    private static final int OPT_STARTTLS = 5;
    private static final int OPT_INFO = 6;
    private static final int OPT_GO = 7;
    private static final int OPT_STRUCTURED_REPLY = 8;
    private static final int REP_ACK = 1;
    private static final int REP_ERR_TLS_REQD = 0x80000005;
    private static final int REP_ERR_POLICY = 0x80000002;
    private static final long SIZE = 64L * 1024 * 1024;

    @TempDir
    Path dir;
    private Path image;
    private TestCertificates certs;

    @BeforeEach
    void imageAndCertificates() throws Exception {
        image = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        certs = TestCertificates.create(dir);
    }

    private ServerProcess serve(String mode, String... more) throws IOException {
        List<String> args = new ArrayList<>(List.of("--export", "disk=" + image, "--tls", mode,
                "--tls-cert", certs.serverCert.toString(), "--tls-key", certs.serverKey.toString()));
        args.addAll(List.of(more));
        return ServerProcess.serve(dir.resolve("server-" + mode + ".log"), args.toArray(String[]::new));
    }

    private static String nbds(ServerProcess server, Path certificates) {
        return "nbds://127.0.0.1:" + server.port() + "/disk?tls-certificates=" + certificates;
    }

    private static byte[] infoData(String name) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        out.writeInt(n.length);
        out.write(n);
        out.writeShort(0);
        return bytes.toByteArray();
    }

    @Test
    void requireRefusesEveryOptionButStartTlsAndAbortInTheClear() throws Exception {
        try (ServerProcess server = serve("require")) {
            try (PlainOptionClient client = new PlainOptionClient(server.port())) {
                for (int option : new int[] {OPT_LIST, OPT_STRUCTURED_REPLY, 99}) {
                    client.send(option, new byte[0]);
                    assertThat(client.reply().type()).as("reply to option %d without TLS", option)
                            .isEqualTo(REP_ERR_TLS_REQD);
                }
                for (int option : new int[] {OPT_INFO, OPT_GO}) {
                    client.send(option, infoData("disk"));
                    PlainOptionClient.OptionReply reply = client.reply();
                    assertThat(reply.option()).isEqualTo(option);
                    assertThat(reply.type()).as("reply to option %d without TLS", option).isEqualTo(REP_ERR_TLS_REQD);
                }
                client.send(OPT_ABORT, new byte[0]);
                assertThat(client.reply().type()).isEqualTo(REP_ACK);
                assertThat(client.closedByServer()).isTrue();
            }
            try (PlainOptionClient client = new PlainOptionClient(server.port())) {
                client.send(OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
                assertThat(client.closedByServer()).as("EXPORT_NAME without TLS ends the connection").isTrue();
            }
            try (PlainOptionClient client = new PlainOptionClient(server.port())) {
                client.send(OPT_STARTTLS, new byte[0]);
                assertThat(client.reply().type()).as("reply to STARTTLS").isEqualTo(REP_ACK);
            }
            ExternalCommand.Result plain = ExternalCommand.run("nbdinfo", server.uri("disk"));
            assertThat(plain.exitCode()).as("nbdinfo without TLS: %s", plain.output()).isNotZero();
            assertThat(server.isAlive()).isTrue();
        }
    }

    @Test
    void nbdinfoQemuImgAndQemuIoWorkOverTls() throws Exception {
        try (ServerProcess server = serve("require")) {
            ExternalCommand.Result info = ExternalCommand.run("nbdinfo", nbds(server, certs.anonymousClientDir));
            assertThat(info.exitCode()).as("nbdinfo over TLS: %s", info.output()).isZero();
            assertThat(info.output()).contains(Long.toString(SIZE));

            String tlsObject = "tls-creds-x509,id=tls0,endpoint=client,dir=" + certs.anonymousClientDir;
            String imageOpts = "driver=nbd,host=127.0.0.1,port=" + server.port() + ",export=disk,tls-creds=tls0";
            ExternalCommand.Result qemuInfo = ExternalCommand.run("qemu-img", "info", "--object", tlsObject,
                    "--image-opts", imageOpts);
            assertThat(qemuInfo.exitCode()).as("qemu-img info over TLS: %s", qemuInfo.output()).isZero();
            assertThat(qemuInfo.output()).contains("virtual size: 64 MiB");

            ExternalCommand.Result io = ExternalCommand.run("qemu-io", "--object", tlsObject, "--image-opts", imageOpts,
                    "-c", "write -P 0x5a 1M 64k", "-c", "read -P 0x5a 1M 64k");
            assertThat(io.exitCode()).as("qemu-io over TLS: %s", io.output()).isZero();
            assertThat(io.output()).contains("wrote 65536/65536").contains("read 65536/65536")
                    .doesNotContain("Pattern verification failed");
        }
    }

    @Test
    void withACaOnlyClientsWithACertificateItSignedGetIn() throws Exception {
        try (ServerProcess server = serve("require", "--tls-ca", certs.caCert.toString())) {
            ExternalCommand.Result withCert = ExternalCommand.run("nbdinfo", nbds(server, certs.clientDir));
            assertThat(withCert.exitCode()).as("nbdinfo with a client certificate: %s", withCert.output()).isZero();
            ExternalCommand.Result without = ExternalCommand.run("nbdinfo", nbds(server, certs.anonymousClientDir));
            assertThat(without.exitCode()).as("nbdinfo without a client certificate: %s", without.output()).isNotZero();
            assertThat(server.isAlive()).isTrue();
        }
    }

    @Test
    void allowServesPlainAndTlsClients() throws Exception {
        try (ServerProcess server = serve("allow")) {
            ExternalCommand.Result plain = ExternalCommand.run("nbdinfo", server.uri("disk"));
            assertThat(plain.exitCode()).as("nbdinfo in the clear: %s", plain.output()).isZero();
            ExternalCommand.Result tls = ExternalCommand.run("nbdinfo", nbds(server, certs.anonymousClientDir));
            assertThat(tls.exitCode()).as("nbdinfo over TLS: %s", tls.output()).isZero();
        }
    }

    @Test
    void perExportAllowListsByCertificateNameAndSourceAddress() throws Exception {
        List<String> args = new ArrayList<>(List.of("--tls-ca", certs.caCert.toString()));
        for (String name : List.of("mine", "theirs", "local", "remote")) {
            Path file = dir.resolve(name + ".raw");
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(1024 * 1024);
            }
            args.addAll(List.of("--export", name + "=" + file));
        }
        args.addAll(List.of("--allow", "mine=cert:" + TestCertificates.CLIENT_NAME, "--allow", "theirs=cert:somebody-else",
                "--allow", "local=addr:127.0.0.0/8", "--allow", "remote=addr:10.0.0.0/8",
                "--allow", "remote=cert:somebody-else"));
        try (ServerProcess server = serve("allow", args.toArray(String[]::new))) {
            String tls = "nbds://127.0.0.1:" + server.port() + "/%s?tls-certificates=" + certs.clientDir;
            String plain = "nbd://127.0.0.1:" + server.port() + "/%s";
            assertThat(nbdinfo(tls, "mine")).as("own certificate name").isZero();
            assertThat(nbdinfo(tls, "theirs")).as("another certificate name").isNotZero();
            assertThat(nbdinfo(plain, "mine")).as("no certificate").isNotZero();
            assertThat(nbdinfo(plain, "local")).as("from an allowed network").isZero();
            assertThat(nbdinfo(tls, "local")).as("from an allowed network, over TLS").isZero();
            assertThat(nbdinfo(plain, "remote")).as("from another network").isNotZero();
            assertThat(nbdinfo(tls, "remote")).as("from another network, not the named certificate").isNotZero();
            assertThat(ExternalCommand.run("nbdinfo", "--list", String.format(plain, "")).output())
                    .as("NBD_OPT_LIST in the clear from 127.0.0.1").contains("export=\"local\"")
                    .doesNotContain("export=\"mine\"").doesNotContain("export=\"theirs\"")
                    .doesNotContain("export=\"remote\"");
            assertThat(ExternalCommand.run("nbdinfo", "--list", String.format(tls, "")).output())
                    .as("NBD_OPT_LIST over TLS with a certificate").contains("export=\"mine\"").contains("export=\"local\"")
                    .doesNotContain("export=\"theirs\"").doesNotContain("export=\"remote\"");

            try (PlainOptionClient client = new PlainOptionClient(server.port())) {
                client.send(OPT_INFO, infoData("remote"));
                assertThat(client.reply().type()).as("NBD_OPT_INFO of a forbidden export").isEqualTo(REP_ERR_POLICY);
                client.send(OPT_INFO, infoData("local"));
                assertThat(client.reply().type()).as("NBD_OPT_INFO of an allowed export").isNotEqualTo(REP_ERR_POLICY);
            }
        }
    }

    private static int nbdinfo(String uriFormat, String export) throws IOException, InterruptedException {
        return ExternalCommand.run("nbdinfo", String.format(uriFormat, export)).exitCode();
    }
}
