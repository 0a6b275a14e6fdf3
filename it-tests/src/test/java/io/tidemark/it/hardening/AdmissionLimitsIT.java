package io.tidemark.it.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tidemark serve --max-connections, --max-connections-per-export, --idle-timeout} with raw sockets. */
class AdmissionLimitsIT {

    private static final int REP_ACK = 1;
    private static final int REP_ERR_POLICY = 0x80000002;

    @TempDir
    Path dir;

    private ServerProcess serve(String... limits) throws Exception {
        String[] args = new String[limits.length + 4];
        for (int i = 0; i < 2; i++) {
            Path image = dir.resolve("disk" + i + ".raw");
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(1024 * 1024);
            }
            args[2 * i] = "--export";
            args[2 * i + 1] = "disk" + i + "=" + image;
        }
        System.arraycopy(limits, 0, args, 4, limits.length);
        return ServerProcess.serve(dir.resolve("server.log"), args);
    }

    @Test
    void connectionsBeyondTheServerLimitAreClosedBeforeTheGreeting() throws Exception {
        try (ServerProcess server = serve("--max-connections", "2");
                PlainOptionClient first = new PlainOptionClient(server.port());
                PlainOptionClient second = new PlainOptionClient(server.port())) {
            try (PlainOptionClient third = new PlainOptionClient(server.port(), false)) {
                assertThat(third.closedByServer()).as("third connection").isTrue();
            }
            first.close();
            PlainOptionClient again = retry(server.port());
            again.close();
            assertThat(server.log()).contains("2 connections already open");
        }
    }

    /** The server notices a closed connection a moment later; a new one then fits again. */
    private static PlainOptionClient retry(int port) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                return new PlainOptionClient(port);
            } catch (java.io.IOException e) {
                if (attempt == 50) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    @Test
    void goToAnExportAtItsLimitGetsErrPolicy() throws Exception {
        try (ServerProcess server = serve("--max-connections-per-export", "1")) {
            try (PlainOptionClient first = new PlainOptionClient(server.port());
                    PlainOptionClient second = new PlainOptionClient(server.port())) {
                assertThat(first.go("disk0").type()).isEqualTo(REP_ACK);
                assertThat(second.go("disk0").type()).as("second GO to disk0").isEqualTo(REP_ERR_POLICY);
                assertThat(second.go("disk1").type()).as("GO to another export").isEqualTo(REP_ACK);
            }
            for (int attempt = 0; ; attempt++) {
                try (PlainOptionClient later = new PlainOptionClient(server.port())) {
                    int type = later.go("disk0").type();
                    if (type == REP_ACK || attempt == 50) {
                        assertThat(type).as("GO to disk0 after the first client left").isEqualTo(REP_ACK);
                        break;
                    }
                }
                Thread.sleep(100);
            }
        }
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        try (ServerProcess server = serve("--idle-timeout", "1");
                PlainOptionClient client = new PlainOptionClient(server.port())) {
            assertThat(client.go("disk0").type()).isEqualTo(REP_ACK);
            long start = System.nanoTime();
            assertThat(client.closedByServer()).as("idle connection").isTrue();
            assertThat((System.nanoTime() - start) / 1_000_000).as("ms until closed").isBetween(500L, 9_000L);
        }
    }
}
