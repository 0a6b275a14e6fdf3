package io.tidemark.image.raw;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawCompactorTest {

    private static final int K = 1024;

    @TempDir
    Path dir;

    @Test
    void punchesOnlyWholeZeroBlocks() throws IOException {
        Path path = dir.resolve("c.raw");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.write(new byte[64 * K]);
            file.seek(20 * K + 5);
            file.write(7);
            file.seek(64 * K - 1);
            file.write(8);
        }
        byte[] before = Files.readAllBytes(path);
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            long punched = new RawCompactor(device).compact(position -> { });
            assertThat(punched).isEqualTo(64 * K - 8 * K);
            assertThat(device.extents(0, 64 * K)).containsExactly(
                    new Extent(0, 20 * K, ExtentType.HOLE),
                    new Extent(20 * K, 4 * K, ExtentType.DATA),
                    new Extent(24 * K, 36 * K, ExtentType.HOLE),
                    new Extent(60 * K, 4 * K, ExtentType.DATA));
        }
        assertThat(Files.readAllBytes(path)).isEqualTo(before);
    }
}
