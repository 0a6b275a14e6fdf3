package io.tidemark.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.raw.RawFileDevice;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCopierTest {

    private static final int K = 1024;

    @TempDir
    Path dir;

    @Test
    void copiesDataSkipsHolesAndZeroBlocks() throws IOException {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Path source = dir.resolve("src.raw");
        int size = 8 * K * K + 1234;
        try (RandomAccessFile file = new RandomAccessFile(source.toFile(), "rw")) {
            file.setLength(size);
            for (int i = 0; i < 40; i++) {
                byte[] data = new byte[1 + random.nextInt(100 * K)];
                if (random.nextInt(4) > 0) {
                    random.nextBytes(data);
                }
                file.seek(random.nextInt(size - data.length));
                file.write(data);
            }
            file.seek(4 * K * K);
            file.write(new byte[64 * K]);
            file.seek(size - 10);
            file.write(new byte[] {1, 2, 3});
        }
        Path target = dir.resolve("dst.raw");
        List<Long> progress = new ArrayList<>();
        try (RawFileDevice in = RawFileDevice.open(source, true); RawFileDevice out = RawFileDevice.create(target, size)) {
            long written = new ImageCopier(in, out).copy(progress::add);
            assertThat(written).as("seed " + seed).isLessThanOrEqualTo(allocated(in));
        }
        assertThat(Files.readAllBytes(target)).as("seed " + seed).isEqualTo(Files.readAllBytes(source));
        assertThat(progress).as("progress ends at the size").isNotEmpty().endsWith((long) size);
        assertThat(progress).isSorted();
        try (RawFileDevice out = RawFileDevice.open(target, true)) {
            assertThat(allocated(out)).as("seed " + seed).isLessThan(allocatedOf(source));
        }
    }

    private long allocatedOf(Path path) throws IOException {
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            return allocated(device);
        }
    }

    private static long allocated(BlockDevice device) throws IOException {
        long[] total = {0};
        ExtentWalk.walk(device, e -> total[0] += e.type() == ExtentType.DATA ? e.length() : 0);
        return total[0];
    }
}
