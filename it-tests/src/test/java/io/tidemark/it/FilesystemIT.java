package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Linux filesystem on an export: ext4 made and mounted through nbdfuse and a loop
 * device, thousands of small files copied in, unmounted; then, through a fresh nbdfuse
 * connection (so nothing can come from a client cache), fsck finds it clean and the files
 * read back equal.
 */
class FilesystemIT {

    private static final long SEED = 20261126L;
    private static final int DIRECTORIES = 40;
    private static final int FILES_PER_DIRECTORY = 60;
    private static final Duration FS_TIMEOUT = Duration.ofSeconds(120);
    private static final long IMAGE_SIZE = 256 * MIB;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void ext4OnARawExportSurvivesCopyUnmountFsckAndRemount() throws Exception {
        ext4SurvivesCopyUnmountFsckAndRemount(TestImages.sparse(dir.resolve("fs.raw"), IMAGE_SIZE));
    }

    @Test
    void ext4OnAThinExportSurvivesCopyUnmountFsckAndRemount() throws Exception {
        assumeTrue(servers.kind() == ServerKind.TIDEMARK, "nbdkit cannot serve tidemark's thin images");
        Path image = dir.resolve("fs.tdm");
        ImageTool.createThin(image, "256M");
        ext4SurvivesCopyUnmountFsckAndRemount(image);
        servers.stopAll();
        assertThat(ImageTool.check(image)).as("tidemark image check after the server stopped")
                .isEqualTo(ImageTool.CHECK_CLEAN);
    }

    private void ext4SurvivesCopyUnmountFsckAndRemount(Path image) throws Exception {
        FuseLoopDevice.assertMachineCanDoIt();
        Path tree = writeTree(Files.createDirectories(dir.resolve("tree")));
        NbdServer server = servers.start(Export.writable("fs", image));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));

        try (FuseLoopDevice device = FuseLoopDevice.attach(server.uri("fs"), Files.createDirectories(dir.resolve("one")))) {
            Client.run(FS_TIMEOUT, "mkfs.ext4", "-q", "-F", device.loopDevice()).assertSuccess();
            Client.run("mount", device.loopDevice(), mnt.toString()).assertSuccess();
            try {
                Client.run(FS_TIMEOUT, "cp", "-a", tree.toString(), mnt.toString()).assertSuccess();
            } finally {
                Client.run(FS_TIMEOUT, "umount", mnt.toString()).assertSuccess();
            }
        }

        try (FuseLoopDevice device = FuseLoopDevice.attach(server.uri("fs"), Files.createDirectories(dir.resolve("two")))) {
            Client.Result fsck = Client.run(FS_TIMEOUT, "e2fsck", "-f", "-n", device.loopDevice());
            if (fsck.exitCode() != 0) {
                fail(fsck.describe("found problems (exit " + fsck.exitCode() + ")"));
            }
            Client.run("mount", "-o", "ro", device.loopDevice(), mnt.toString()).assertSuccess();
            try {
                assertSameTree(tree, mnt.resolve("tree"));
            } finally {
                Client.run(FS_TIMEOUT, "umount", mnt.toString()).assertSuccess();
            }
        }
    }

    /** 2,400 files of 0 to 8 KiB random bytes in 40 directories. */
    private static Path writeTree(Path root) throws IOException {
        Random random = new Random(SEED);
        for (int d = 0; d < DIRECTORIES; d++) {
            Path sub = Files.createDirectories(root.resolve("dir" + d));
            for (int f = 0; f < FILES_PER_DIRECTORY; f++) {
                byte[] content = new byte[random.nextInt(8193)];
                random.nextBytes(content);
                Files.write(sub.resolve("file" + f), content);
            }
        }
        return root;
    }

    private static void assertSameTree(Path expected, Path actual) throws IOException {
        long files = 0;
        try (Stream<Path> paths = Files.walk(expected)) {
            for (Path path : paths.filter(Files::isRegularFile).toList()) {
                Path copy = actual.resolve(expected.relativize(path).toString());
                assertThat(copy).as("copied file").exists();
                TestImages.assertSameBytes(path, copy);
                files++;
            }
        }
        try (Stream<Path> paths = Files.walk(actual)) {
            assertThat(paths.filter(Files::isRegularFile).count()).as("files on the remounted filesystem")
                    .isEqualTo(files);
        }
        assertThat(files).isEqualTo((long) DIRECTORIES * FILES_PER_DIRECTORY);
    }
}
