package io.tidemark.it.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 1: a virtual machine whose disk is a tidemark export (QEMU's NBD client under virtio-blk)
 * makes an ext4 file system, writes and checksums files, remounts and verifies them, and powers off;
 * then the host checks the image and maps the data the guest wrote.
 */
class FilesystemVmIT {

    private static final int FILES = 8;
    private static final int FILE_MIB = 4;

    @TempDir
    Path work;

    @Test
    void guestFilesSurviveRemountOnATidemarkDisk() throws Exception {
        HostImage image = HostImage.createThin(work.resolve("vm.img"), "1G");
        GuestRun run;
        try (TidemarkServer server = TidemarkServer.named("filesystem", work).export("vm", image.path()).start()) {
            run = Guest.scenario("filesystem")
                    .programs("/usr/sbin/mke2fs", "/usr/sbin/e2fsck")
                    .hostFiles("/etc/mke2fs.conf")
                    .parameter("FILES", FILES)
                    .parameter("FILE_MIB", FILE_MIB)
                    .nbdDisk(server.port(), "vm")
                    .timeout(Duration.ofMinutes(3))
                    .boot(work)
                    .assertSucceeded();
            assertThat(server.isAlive()).as("server still running after the guest powered off").isTrue();
        }
        assertThat(run.required("written")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("verified")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("fsck")).isEqualTo("clean");

        image.assertClean();
        assertThat(image.mappedDataBytes()).as("bytes image map lists as data")
                .isGreaterThanOrEqualTo((long) FILES * FILE_MIB << 20);
    }
}
