package io.tidemark.it.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 4, the loop without a manager: the quota's policy is enospc and nobody raises it. The
 * guest must get an I/O error (not hang), the files it completed before must stay intact, the
 * server must keep serving, and the image must check clean.
 */
class QuotaEnospcVmIT {

    private static final long MIB = 1L << 20;
    private static final long QUOTA = 256 * MIB;
    /** 512 MiB of files against a 256 MiB quota. */
    private static final int FILES = 16;
    private static final int FILE_MIB = 32;

    @TempDir
    Path work;

    @Test
    void guestGetsAnIoErrorAndServerStaysUp() throws Exception {
        HostImage image = HostImage.createThin(work.resolve("full.img"), "1G");
        GuestRun run;
        try (TidemarkServer server = TidemarkServer.named("enospc", work)
                .export("full", image.path(), "quota=" + QUOTA)
                .control()
                .start()) {
            TidemarkCli.run("quota", "set", "full", Long.toString(QUOTA), "--policy", "enospc",
                    "--control", server.controlAddress()).assertSuccess();
            run = Guest.scenario("enospc")
                    .programs("/usr/sbin/mke2fs")
                    .hostFiles("/etc/mke2fs.conf")
                    .parameter("FILES", FILES)
                    .parameter("FILE_MIB", FILE_MIB)
                    .nbdDisk(server.port(), "full")
                    .timeout(Duration.ofMinutes(4))
                    .boot(work)
                    .assertSucceeded();
            assertThat(server.isAlive()).as("server alive after the guest hit the quota").isTrue();
            // A new client is still served: the export answers a fresh handshake and a read.
            readWithQemuIo(server.port(), "full");
        }

        assertThat(run.required("write-failed")).as("the write that hit the quota").isNotEqualTo("none");
        assertThat(Integer.parseInt(run.required("io-errors"))).as("kernel I/O error lines").isPositive();
        int before = Integer.parseInt(run.required("files-before-failure"));
        assertThat((long) before * FILE_MIB * MIB).as("bytes completed before the error").isLessThan(QUOTA);
        assertThat(run.required("intact")).isEqualTo(Integer.toString(before));

        image.assertClean();
    }

    private static void readWithQemuIo(int port, String export) throws Exception {
        Process qemuIo = new ProcessBuilder("qemu-io", "-f", "raw", "-c", "read 0 64k",
                "nbd://127.0.0.1:" + port + "/" + export).redirectErrorStream(true).start();
        String output = new String(qemuIo.getInputStream().readAllBytes());
        assertThat(qemuIo.waitFor(30, TimeUnit.SECONDS)).as("qemu-io finished").isTrue();
        assertThat(qemuIo.exitValue()).as("qemu-io read after the quota was hit: %s", output).isZero();
        assertThat(output).contains("read 65536/65536 bytes");
    }
}
