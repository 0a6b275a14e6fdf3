package io.tidemark.image.hostfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs on /tmp (ext4 or tmpfs, both with holes) and on /dev/shm (tmpfs: no ZERO_RANGE). */
class HostFileTest {

    private static final int K = 1024;
    private static final Path SHM = Path.of("/dev/shm");

    @TempDir
    Path dir;

    /** A 1 MiB file that is all hole except 4 KiB of 0x55 at 256 KiB. */
    private static Path sparseFile(Path dir) throws IOException {
        Path path = sizedFile(dir, "sparse.img", K * K);
        byte[] data = new byte[4 * K];
        Arrays.fill(data, (byte) 0x55);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.seek(256 * K);
            file.write(data);
        }
        return path;
    }

    /** A file of {@code size} bytes that is one hole. */
    private static Path sizedFile(Path dir, String name, int size) throws IOException {
        Path path = dir.resolve(name);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
        }
        return path;
    }

    /** fstatfs tells the filesystem: ext4 (the temp dir) and tmpfs are this host's, NFS or FUSE are not. */
    @Test
    void filesOnThisHostsFilesystemsAreNotRemote() throws IOException {
        try (HostFile file = HostFile.open(sizedFile(dir, "local.img", 4 * K), false)) {
            assertThat(file.isRemote()).isFalse();
        }
        Path shm = Files.createTempFile(SHM, "hostfile", ".img");
        try (HostFile file = HostFile.open(shm, false)) {
            assertThat(file.isRemote()).isFalse();
        } finally {
            Files.delete(shm);
        }
        assertThat(HostFile.isRemoteFilesystem(0x6969L)).as("NFS").isTrue();
        assertThat(HostFile.isRemoteFilesystem(0x65735546L)).as("FUSE").isTrue();
        assertThat(HostFile.isRemoteFilesystem(0xEF53L)).as("ext4").isFalse();
        assertThat(HostFile.isRemoteFilesystem(0x58465342L)).as("XFS").isFalse();
    }

    @Test
    void seekFindsTheDataAndTheHolesOfASparseFile() throws IOException {
        Path path = sparseFile(dir);
        assertThat(Files.size(path)).isEqualTo(K * K);
        try (HostFile file = HostFile.open(path, false)) {
            assertThat(file.capabilities().seekData()).isTrue();
            assertThat(file.nextData(0)).isEqualTo(256 * K);
            assertThat(file.nextHole(0)).isEqualTo(0);
            assertThat(file.nextHole(256 * K)).isEqualTo(260 * K);
            assertThat(file.nextData(260 * K)).as("only holes after the data").isEqualTo(-1);
            assertThat(file.nextHole(K * K - 1)).isEqualTo(K * K - 1);
            assertThat(file.nextData(K * K)).as("at the end of the file").isEqualTo(-1);
            assertThat(file.nextHole(K * K)).as("at the end of the file").isEqualTo(-1);
        }
    }

    @Test
    void punchHoleDeallocatesAndReadsZero() throws IOException {
        Path path = sizedFile(dir, "full.img", K * K);
        byte[] ones = new byte[K * K];
        Arrays.fill(ones, (byte) 1);
        Files.write(path, ones);
        try (HostFile file = HostFile.open(path, true)) {
            assertThat(file.capabilities().punchHole()).isTrue();
            assertThat(file.nextData(0)).isZero();
            assertThat(file.punchHole(64 * K, 128 * K)).isTrue();
            assertThat(file.nextHole(0)).isEqualTo(64 * K);
            assertThat(file.nextData(64 * K)).isEqualTo(192 * K);
        }
        byte[] back = Files.readAllBytes(path);
        assertThat(back).hasSize(K * K);
        assertThat(Arrays.copyOfRange(back, 64 * K, 192 * K)).containsOnly(0);
        assertThat(back[64 * K - 1]).isEqualTo((byte) 1);
        assertThat(back[192 * K]).isEqualTo((byte) 1);
    }

    @Test
    void punchingAnUnalignedRangeZeroesExactlyThatRange() throws IOException {
        Path path = dir.resolve("unaligned.img");
        byte[] ones = new byte[64 * K];
        Arrays.fill(ones, (byte) 1);
        Files.write(path, ones);
        try (HostFile file = HostFile.open(path, true)) {
            assertThat(file.punchHole(1000, 10_000)).isTrue();
        }
        byte[] back = Files.readAllBytes(path);
        for (int i = 0; i < back.length; i++) {
            byte expected = i >= 1000 && i < 11_000 ? (byte) 0 : (byte) 1;
            if (back[i] != expected) {
                throw new AssertionError("byte " + i + " is " + back[i] + ", expected " + expected);
            }
        }
    }

    @Test
    void zeroRangeZeroesWithoutChangingTheSizeWhereSupported() throws IOException {
        Path path = dir.resolve("zero.img");
        byte[] ones = new byte[256 * K];
        Arrays.fill(ones, (byte) 1);
        Files.write(path, ones);
        try (HostFile file = HostFile.open(path, true)) {
            boolean zeroed = file.zeroRange(4 * K, 8 * K);
            assertThat(file.capabilities().zeroRange()).isEqualTo(zeroed);
            if (!zeroed) {
                // The contract when unsupported: nothing changed.
                assertThat(Files.readAllBytes(path)).containsOnly(1);
                return;
            }
        }
        byte[] back = Files.readAllBytes(path);
        assertThat(back).hasSize(256 * K);
        assertThat(Arrays.copyOfRange(back, 4 * K, 12 * K)).containsOnly(0);
        assertThat(Arrays.copyOfRange(back, 12 * K, 256 * K)).containsOnly(1);
    }

    @Test
    void tmpfsLacksZeroRangeAndTheCapabilityRecordsIt() throws IOException {
        assertThat(Files.getFileStore(SHM).type()).as("/dev/shm must be a tmpfs for this test").isEqualTo("tmpfs");
        Path shmDir = Files.createTempDirectory(SHM, "hostfile-test");
        try {
            Path path = sizedFile(shmDir, "t.img", 64 * K);
            Files.write(path, new byte[] {7}, StandardOpenOption.WRITE);
            try (HostFile file = HostFile.open(path, true)) {
                assertThat(file.capabilities().zeroRange()).as("assumed until tried").isTrue();
                assertThat(file.zeroRange(0, 4 * K)).isFalse();
                assertThat(file.capabilities().zeroRange()).isFalse();
                assertThat(file.capabilities().punchHole()).isTrue();
            }
            assertThat(Files.readAllBytes(path)[0]).as("unsupported zeroing changes nothing").isEqualTo((byte) 7);
        } finally {
            try (var files = Files.list(shmDir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(shmDir);
        }
    }

    @Test
    void flockExcludesWritersAndSharesReaders() throws IOException {
        Path path = sizedFile(dir, "lock.img", 4 * K);
        try (HostFile other = HostFile.open(path, true)) {
            HostFile writer = HostFile.open(path, true);
            assertThat(writer.tryLock(true)).isTrue();
            assertThat(other.tryLock(true)).isFalse();
            assertThat(other.tryLock(false)).isFalse();
            writer.close();
            assertThat(other.tryLock(true)).as("the lock dies with its descriptor").isTrue();
        }
        try (HostFile a = HostFile.open(path, false); HostFile b = HostFile.open(path, false)) {
            assertThat(a.tryLock(false)).isTrue();
            assertThat(b.tryLock(false)).isTrue();
            try (HostFile writer = HostFile.open(path, true)) {
                assertThat(writer.tryLock(true)).isFalse();
            }
        }
    }

    @Test
    void readOnlyFileCannotPunch() throws IOException {
        Path path = sizedFile(dir, "ro.img", 4 * K);
        try (HostFile file = HostFile.open(path, false)) {
            assertThat(file.capabilities().punchHole()).isFalse();
            assertThat(file.capabilities().zeroRange()).isFalse();
            assertThatThrownBy(() -> file.punchHole(0, 512)).hasMessageContaining("read-only");
        }
    }

    @Test
    void missingFileFailsWithTheCauseAndThePath() {
        assertThatThrownBy(() -> HostFile.open(dir.resolve("missing.img"), false))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("missing.img")
                .hasMessageContaining("No such file")
                .hasMessageContaining("errno 2");
    }

    @Test
    void callsAfterCloseFailInsteadOfReachingAReusedDescriptor() throws IOException {
        Path path = sizedFile(dir, "closed.img", 4 * K);
        HostFile file = HostFile.open(path, true);
        file.close();
        file.close();
        assertThatThrownBy(() -> file.nextData(0)).hasMessageContaining("closed");
        assertThatThrownBy(() -> file.punchHole(0, 512)).hasMessageContaining("closed");
    }

    @Test
    void positionalReadsAndWritesMoveTheBufferAndStopAtTheEnd() throws IOException {
        Path path = sparseFile(dir);
        try (HostFile file = HostFile.open(path, true)) {
            ByteBuffer out = ByteBuffer.allocateDirect(8 * K);
            while (out.hasRemaining()) {
                out.put((byte) 0x3c);
            }
            assertThat(file.write(512 * K, out.flip())).isEqualTo(8 * K);
            assertThat(out.hasRemaining()).isFalse();

            ByteBuffer in = ByteBuffer.allocateDirect(8 * K);
            assertThat(file.read(512 * K, in)).isEqualTo(8 * K);
            assertThat(in.flip().get(0)).isEqualTo((byte) 0x3c);
            assertThat(in.get(8 * K - 1)).isEqualTo((byte) 0x3c);

            ByteBuffer tail = ByteBuffer.allocateDirect(4 * K);
            assertThat(file.read(K * K - K, tail)).as("only 1 KiB before the end").isEqualTo(K);
            assertThat(file.read(K * K, tail)).as("at the end of the file").isZero();
            assertThatThrownBy(() -> file.read(0, ByteBuffer.allocate(16))).hasMessageContaining("direct buffer");
        }
    }
}
