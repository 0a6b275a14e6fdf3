package io.tidemark.it.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scenario 1: a virtual machine whose disk is an NBD export makes a file system and keeps its files. */
class FilesystemVmIT {

    private static final int FILES = 8;
    private static final int FILE_MIB = 4;

    @TempDir
    Path work;

    @Test
    void guestFilesSurviveRemountOnNetworkDisk() throws Exception {
        Path image = work.resolve("disk.raw");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(1L << 30);
        }
        GuestRun run;
        try (StandInNbdServer server = StandInNbdServer.serve("disk", image, work.resolve("server.log"))) {
            run = Guest.scenario("filesystem")
                    .programs("/usr/sbin/mke2fs", "/usr/sbin/e2fsck")
                    .hostFiles("/etc/mke2fs.conf")
                    .parameter("FILES", FILES)
                    .parameter("FILE_MIB", FILE_MIB)
                    .nbdDisk(server.port(), "disk")
                    .timeout(Duration.ofMinutes(3))
                    .boot(work)
                    .assertSucceeded();
        }
        assertThat(run.required("written")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("verified")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("fsck")).isEqualTo("clean");
    }
}
