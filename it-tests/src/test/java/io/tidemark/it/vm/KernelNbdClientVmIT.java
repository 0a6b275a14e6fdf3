package io.tidemark.it.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scenario 2: the Linux kernel's NBD client, inside a guest, attaches an export as /dev/nbd0. */
class KernelNbdClientVmIT {

    private static final long DISK_BYTES = 512L << 20;
    private static final int FILES = 4;
    private static final int FILE_MIB = 4;

    @TempDir
    Path work;

    @Test
    void guestKernelClientWritesAndReadsBackAFileSystem() throws Exception {
        Path image = work.resolve("disk.raw");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(DISK_BYTES);
        }
        GuestRun run;
        try (StandInNbdServer server = StandInNbdServer.serve("kdisk", image, work.resolve("server.log"))) {
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
        }
        assertThat(run.required("attached")).isEqualTo(Long.toString(DISK_BYTES / 512));
        assertThat(run.required("written")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("verified")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("disconnected")).isEqualTo("nbd0");
    }
}
