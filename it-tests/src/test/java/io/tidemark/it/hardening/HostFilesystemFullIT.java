package io.tidemark.it.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host filesystem under an image runs full: a 32 MiB ext4 holds a 64 MiB image, raw
 * (sparse) or thin.
 * Writes that need space get NBD ENOSPC, the server stays up and serves other requests, writes
 * succeed again once space is freed, and the image checks clean afterwards.
 */
class HostFilesystemFullIT {

    private static final int ENOSPC = 28;
    private static final int CHUNK = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void fullHostFilesystemUnderARawImage() throws Exception {
        fullHostFilesystemGivesEnospcAndRecovers("disk.raw");
    }

    /**
     * Fails today: a FLUSH that cannot commit the thin image's map for lack of space stops the
     * image ("image stopped after an earlier I/O error; reopen it"), so writes after space is
     * freed get EIO until the server reopens the image. Enable once ENOSPC in a commit is
     * recoverable in io.tidemark.image.thin.
     */
    @Disabled("thin image stops after ENOSPC in a metadata commit; see the comment")
    @Test
    void fullHostFilesystemUnderAThinImage() throws Exception {
        fullHostFilesystemGivesEnospcAndRecovers("disk.tdm");
    }

    private void fullHostFilesystemGivesEnospcAndRecovers(String imageName) throws Exception {
        Workload workload = new Workload(dir);
        try (LoopFilesystem fs = LoopFilesystem.create(dir, "32M")) {
            Path filler = fs.root().resolve("filler");
            Files.write(filler, new byte[4 * 1024 * 1024]);
            Path image = fs.root().resolve(imageName);
            boolean thin = imageName.endsWith(".tdm");
            String overwriteResult;
            if (thin) {
                ImageCheck.createThin(image, "64M");
            } else {
                try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                    f.setLength(64L * 1024 * 1024);
                }
            }
            long written;
            try (ServerProcess server = ServerProcess.start(dir.resolve("server.log"), "disk=" + image)) {
                Workload.Result fill = workload.run(null, "fill", server.uri("disk"), Integer.toString(CHUNK));
                written = Long.parseLong(fill.lines("written ").getFirst().split(" ")[1]);
                String error = fill.lines("error ").getFirst();
                assertThat(error).as("the write that found the filesystem full").startsWith("error " + ENOSPC + " ");
                assertThat(written).as("bytes written before the filesystem was full").isPositive();
                assertThat(server.isAlive()).isTrue();

                Workload.Result overwrite = workload.run(null, "write1", server.uri("disk"), "0", "65536", "7");
                overwriteResult = overwrite.stdout().trim();
                if (thin) {
                    // a thin image commits its map copy-on-write, so even a FLUSH may need space it cannot get
                    assertThat(overwrite.stdout()).as("overwrite of allocated space while full")
                            .matches("(?s)(ok|error " + ENOSPC + " ).*");
                } else {
                    assertThat(overwrite.stdout()).as("overwrite of allocated space while full").startsWith("ok");
                }
                String flushedFirstChunk = "flushed 0 " + CHUNK + " 7\n";
                assertThat(workload.run(flushedFirstChunk, "verify", server.uri("disk")).exitCode())
                        .as("data written before the filesystem ran full reads back").isZero();

                Files.delete(filler);
                Workload.Result after = workload.run(null, "write1", server.uri("disk"), Long.toString(written),
                        Integer.toString(CHUNK), "9");
                assertThat(after.stdout()).as("write after space was freed; server log:\n%s", server.log()).startsWith("ok");
                assertThat(workload.run("flushed " + written + " " + CHUNK + " 9\n", "verify", server.uri("disk"))
                        .exitCode()).isZero();
                assertThat(server.log()).doesNotContain("unexpected error");
            }
            ImageCheck.Result check = ImageCheck.run(image);
            assertThat(check.exitCode()).as("image check after the full filesystem: %s", check.output()).isZero();
            System.out.printf("%s: ENOSPC after %d MiB on a 32 MiB filesystem, overwrite while full: %s, check %d%n",
                    imageName, written >> 20, overwriteResult, check.exitCode());
        }
    }
}
