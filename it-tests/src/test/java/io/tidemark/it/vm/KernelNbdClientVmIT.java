package io.tidemark.it.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 2: the Linux kernel's own NBD client. Inside a guest, Debian's nbd-client attaches a
 * tidemark export as /dev/nbd0 over QEMU's user-mode network (one address forwarded to the host's
 * loopback); mkfs, mount, write, reconnect, verify, disconnect.
 */
class KernelNbdClientVmIT {

    private static final long DISK_BYTES = 512L << 20;
    private static final int FILES = 4;
    private static final int FILE_MIB = 4;

    @TempDir
    Path work;

    @Test
    void guestKernelClientWritesAndReadsBackAFileSystem() throws Exception {
        HostImage image = HostImage.createThin(work.resolve("kernel.img"), Long.toString(DISK_BYTES));
        GuestRun run;
        try (TidemarkServer server = TidemarkServer.named("kernel-nbd", work).export("kdisk", image.path()).start()) {
            run = Guest.scenario("kernel-nbd")
                    .modules("nbd")
                    .programs("/usr/sbin/nbd-client", "/usr/sbin/mke2fs")
                    .hostFiles("/etc/mke2fs.conf")
                    .parameter("EXPORT", "kdisk")
                    .parameter("NBD_HOST", Guest.FORWARDED_NBD_ADDRESS)
                    .parameter("NBD_PORT", Guest.FORWARDED_NBD_PORT)
                    .parameter("FILES", FILES)
                    .parameter("FILE_MIB", FILE_MIB)
                    .forwardNbd(server.port())
                    .timeout(Duration.ofMinutes(3))
                    .boot(work)
                    .assertSucceeded();
            assertThat(server.isAlive()).as("server still running after the guest disconnected").isTrue();
        }
        assertThat(run.required("attached")).isEqualTo(Long.toString(DISK_BYTES / 512));
        assertThat(run.required("written")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("verified")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("disconnected")).isEqualTo("nbd0");
        image.assertClean();
        assertThat(image.mappedDataBytes()).isGreaterThanOrEqualTo((long) FILES * FILE_MIB << 20);
    }
}
