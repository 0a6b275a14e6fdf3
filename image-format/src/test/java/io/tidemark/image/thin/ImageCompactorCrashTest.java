package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Compaction crashed after every N file operations leaves the image valid with all data intact. */
class ImageCompactorCrashTest {

    private static final int CLUSTER = 4096;
    private static final long SIZE = 1024 * 1024;

    /**
     * With {@code delta} the trims are committed as a map delta and the writer then dies, so the
     * tables still name the trimmed clusters' space, into which compaction moves the high ones.
     */
    @ParameterizedTest(name = "delta={0}")
    @ValueSource(booleans = {false, true})
    void compactionCanCrashAnywhere(boolean delta) throws IOException {
        byte[] model = new byte[(int) SIZE];
        CrashableMemoryFile prepared = prepare(model, delta);
        long total = compactCounting(prepared.reopened());
        assertThat(total).isGreaterThan(20);
        for (long n = 0; n <= total; n++) {
            for (CrashableMemoryFile.Survival survival : CrashableMemoryFile.Survival.values()) {
                CrashableMemoryFile file = prepared.reopened();
                file.crashAfter(n, n % 2 == 0);
                try {
                    ImageCompactor.compact(ThinImage.open(file, false, AllocationListener.NONE), ProgressListener.NONE);
                } catch (IOException e) {
                    assertThat(file.crashed()).as("only the simulated crash may fail compaction").isTrue();
                }
                CrashableMemoryFile disk = file.crashed() ? file.afterCrash(survival, new Random(n)) : file.reopened();
                assertThat(ImageChecker.check(disk).corruptions()).as("crash after %d, %s", n, survival).isEmpty();
                try (ThinImage image = ThinImage.open(disk, true, AllocationListener.NONE)) {
                    ByteBuffer all = ByteBuffer.allocate((int) SIZE);
                    image.read(0, all);
                    assertThat(all.array()).as("crash after %d, %s", n, survival).isEqualTo(model);
                }
            }
        }
    }

    @Test
    void compactionWithoutCrashShrinksTheFile() throws IOException {
        byte[] model = new byte[(int) SIZE];
        CrashableMemoryFile file = prepare(model, false);
        long before = file.size();
        ImageCompactor.compact(ThinImage.open(file, false, AllocationListener.NONE), ProgressListener.NONE);
        assertThat(ImageChecker.check(file).isClean()).isTrue();
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            ImageInfo info = image.info();
            long needed = info.metadataBytes() + info.dataClusters() * CLUSTER + info.compressedBytes();
            assertThat(file.size()).as("before %d", before).isLessThan(before)
                    .isLessThanOrEqualTo(ImageFormat.alignUp(needed, CLUSTER) + CLUSTER);
        }
    }

    /**
     * Writes 40 clusters (some compressed), trims most of the low ones, closes; with {@code delta}
     * closes after the writes, then trims, flushes (a map delta) and dies without closing.
     */
    private static CrashableMemoryFile prepare(byte[] model, boolean delta) throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, true);
        Random random = new Random(7);
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        for (int i = 0; i < 40; i++) {
            byte[] data = ThinImagePropertyTest.randomData(random, CLUSTER);
            data[0] = (byte) (i + 1);
            image.write((long) i * CLUSTER, ByteBuffer.wrap(data), false);
            System.arraycopy(data, 0, model, i * CLUSTER, CLUSTER);
        }
        if (delta) {
            image.close();
            image = ThinImage.open(file, false, AllocationListener.NONE);
        }
        for (int i = 0; i < 30; i++) {
            if (i % 5 != 0) {
                image.trim((long) i * CLUSTER, CLUSTER, false);
                java.util.Arrays.fill(model, i * CLUSTER, (i + 1) * CLUSTER, (byte) 0);
            }
        }
        if (!delta) {
            image.close();
            return file.reopened();
        }
        image.flush();
        CrashableMemoryFile died = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(1));
        image.close();
        assertThat(ImageLoader.readHeader(died, died.size()).deltaEntries()).isPositive();
        return died;
    }

    private static long compactCounting(CrashableMemoryFile file) throws IOException {
        ImageCompactor.compact(ThinImage.open(file, false, AllocationListener.NONE), ProgressListener.NONE);
        return file.operations();
    }
}
