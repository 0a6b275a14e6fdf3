package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM with a libnbd client connected: the server ends the connection, exits promptly, data is kept. */
class ShutdownIT {

    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(15);

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void sigtermWithAClientConnectedEndsItsConnectionAndExits() throws Exception {
        Path image = TestImages.sparse(dir.resolve("disk.raw"), 4 * MIB);
        NbdServer server = servers.start(Export.writable("disk", image));
        Path marker = dir.resolve("connected");

        try (Client.Running client = NbdshScript.named("connected-through-shutdown.py")
                .with("uri", server.uri("disk"))
                .with("marker", marker.toString())
                .start()) {
            awaitFile(marker, client);

            assertThat(server.terminate(EXIT_TIMEOUT))
                    .as("server exited within %d s of SIGTERM while a client was connected", EXIT_TIMEOUT.toSeconds())
                    .isTrue();

            Client.Result result = client.await(Duration.ofSeconds(40)).assertSuccess();
            assertThat(result.stdout()).contains("ok: connection ended by the shutdown");
        }
        byte[] expected = new byte[65536];
        Arrays.fill(expected, (byte) 0x42);
        assertThat(Arrays.copyOf(Files.readAllBytes(image), 65536)).isEqualTo(expected);
        Client.run("nbdinfo", "--size", server.uri("disk")).assertFailure();
    }

    private static void awaitFile(Path marker, Client.Running client) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(marker)) {
            if (!client.isAlive() || System.nanoTime() > deadline) {
                fail(client.await(Duration.ofSeconds(5)).describe("did not connect and write"));
            }
            Thread.sleep(50);
        }
    }
}
