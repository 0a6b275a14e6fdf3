package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL while a client has writes in flight: a restarted server serves the same image and
 * every write acknowledged before a FLUSH reads back. For a thin image the metadata must also
 * be free of corruption (leaked clusters are allowed after a crash).
 */
class CrashIT {

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void killedServerRestartsOnARawImageWithFlushedWritesIntact() throws Exception {
        crashAndRestart(TestImages.sparse(dir.resolve("disk.raw"), 16 * MIB));
    }

    @Test
    void killedServerRestartsOnAThinImageWithFlushedWritesIntactAndNoCorruption() throws Exception {
        assumeTrue(servers.kind() == ServerKind.TIDEMARK,
                "nbdkit cannot serve tidemark's thin images");
        Path image = dir.resolve("disk.tdm");
        ImageTool.createThin(image, "16M");

        crashAndRestart(image);

        servers.stopAll();
        assertThat(ImageTool.check(image)).as("tidemark image check after a crash and a restart (leaks allowed)")
                .isIn(ImageTool.CHECK_CLEAN, ImageTool.CHECK_LEAKS_ONLY);
    }

    private void crashAndRestart(Path image) throws Exception {
        NbdServer first = servers.start(Export.writable("disk", image));
        try (Client.Running writer = NbdshScript.named("write-then-crash.py")
                .with("uri", first.uri("disk")).with("phase", "write").start()) {
            awaitOutput(writer, "ok: flushed");
            first.kill();
        }

        NbdServer second = servers.start(Export.writable("disk", image));
        Client.Result verify = NbdshScript.named("write-then-crash.py")
                .with("uri", second.uri("disk")).with("phase", "verify").run();
        assertThat(verify.stdout()).contains("ok: all 64 flushed writes survived the crash");
    }

    private static void awaitOutput(Client.Running client, String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!client.stdout().contains(expected)) {
            if (!client.isAlive() || System.nanoTime() > deadline) {
                fail(client.await(Duration.ofSeconds(1)).describe("did not print '" + expected + "'"));
            }
            Thread.sleep(50);
        }
    }
}
