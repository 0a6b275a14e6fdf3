package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partial write into a new cluster: only the client's bytes are written when the space reads as
 * zeroes on the host (beyond the end of the file, or punched), and the cluster is zero-filled when
 * it may hold old bytes. Either way the new cluster reads as zeroes around the write.
 */
class ThinImageFirstWriteTest {

    private static final int CLUSTER = 65536;
    private static final long SIZE = 64L * 1024 * 1024;
    private static final int BLOCK = 4096;

    private final List<Long> allocations = new ArrayList<>();
    private final AllocationListener listener = (offset, length, usage) -> allocations.add(offset);

    private static byte[] pattern(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static CrashableMemoryFile freshFile() throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, false);
        return file.reopened();
    }

    /** Writes {@code data} at {@code inner} of guest cluster {@code cluster}; returns the bytes the file was sent. */
    private static long writeMeasured(ThinImage image, CrashableMemoryFile file, long cluster, int inner, byte[] data)
            throws IOException {
        long before = file.bytesWritten();
        image.write(cluster * CLUSTER + inner, ByteBuffer.wrap(data), false);
        return file.bytesWritten() - before;
    }

    private static void assertClusterHolds(ThinImage image, long cluster, int inner, byte[] data) throws IOException {
        byte[] expected = new byte[CLUSTER];
        System.arraycopy(data, 0, expected, inner, data.length);
        ByteBuffer got = ByteBuffer.allocate(CLUSTER);
        image.read(cluster * CLUSTER, got);
        assertThat(got.array()).as("guest cluster %d: zeroes around the write", cluster).isEqualTo(expected);
    }

    @Test
    void firstWriteBeyondTheEndOfTheFileWritesOnlyTheClientsBytes() throws IOException {
        CrashableMemoryFile file = freshFile();
        byte[] data = pattern(BLOCK, 1);
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            image.write(0, ByteBuffer.wrap(pattern(BLOCK, 2)), false);
            assertThat(writeMeasured(image, file, 3, 8192, data)).isEqualTo(BLOCK);
            long at = allocations.getLast();
            assertThat(file.size()).as("the file covers the new cluster").isGreaterThanOrEqualTo(at + CLUSTER);
            assertClusterHolds(image, 3, 8192, data);
            image.flush();
            assertThat(ImageChecker.check(file).corruptions()).isEmpty();
        }
        assertThat(ImageChecker.check(file).exitCode()).as("clean close truncates the grown tail").isZero();
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            assertClusterHolds(image, 3, 8192, data);
        }
    }

    @Test
    void aFreedClusterPunchedOutIsReusedWithoutZeroFill() throws IOException {
        CrashableMemoryFile file = freshFile();
        byte[] data = pattern(BLOCK, 3);
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 4)), true);
            image.trim(0, CLUSTER, true);
            long end = image.usage();
            assertThat(writeMeasured(image, file, 5, 1000, data)).isEqualTo(BLOCK);
            assertThat(allocations.getLast()).as("reuses punched space").isLessThan(end);
            assertClusterHolds(image, 5, 1000, data);
        }
    }

    @Test
    void aFreedClusterIsZeroFilledWhereHolesCannotBePunched() throws IOException {
        CrashableMemoryFile file = freshFile();
        file.disablePunching();
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            image.write(0, ByteBuffer.wrap(pattern(4 * CLUSTER, 6)), false);
            List<long[]> freed = allocations.stream().map(at -> new long[] {at, CLUSTER}).toList();
            image.flush();
            image.trim(0, 4L * CLUSTER, true);
            assertNewClustersReadZeroAroundWrites(image, freed);
        }
    }

    @Test
    void freeSpaceFoundOnOpenIsZeroFilled() throws IOException {
        CrashableMemoryFile file = freshFile();
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            image.write(0, ByteBuffer.wrap(pattern(4 * CLUSTER, 7)), false);
            image.trim(0, 3L * CLUSTER, false);
        }
        // Whatever the previous session did, nothing vouches for the bytes of free space now.
        List<long[]> free = ImageLoader.load(file, ImageLoader.Mode.STRICT).free();
        assertThat(free).isNotEmpty();
        for (long[] range : free) {
            file.poke(range[0], pattern((int) range[1], range[0]));
        }
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            assertNewClustersReadZeroAroundWrites(image, free);
        }
    }

    @Test
    void aLeakedTailOfTheFileIsZeroFilled() throws IOException {
        CrashableMemoryFile file = freshFile();
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 10)), false);
        }
        long end = file.size();
        // Clusters written before a crash and never referenced: the file is longer than its map.
        file.poke(end, pattern(2 * CLUSTER, 11));
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            assertNewClustersReadZeroAroundWrites(image, List.of(new long[] {end, 2 * CLUSTER}));
        }
        assertThat(ImageChecker.check(file).exitCode()).isZero();
    }

    /**
     * Writes a block into one new cluster after the other until all of {@code junk} (ranges of old
     * bytes) has been allocated, and verifies that every new cluster reads as zeroes around its block.
     */
    private void assertNewClustersReadZeroAroundWrites(ThinImage image, List<long[]> junk) throws IOException {
        List<Long> wanted = new ArrayList<>();
        for (long[] range : junk) {
            for (long at = range[0]; at < range[0] + range[1]; at += CLUSTER) {
                wanted.add(at);
            }
        }
        byte[] data = pattern(BLOCK, 12);
        allocations.clear();
        for (long cluster = 100; !allocations.containsAll(wanted); cluster++) {
            assertThat(cluster).as("the junk %s is not reused", wanted).isLessThan(200);
            int inner = (int) (cluster % 16) * BLOCK;
            image.write(cluster * CLUSTER + inner, ByteBuffer.wrap(data), false);
            assertClusterHolds(image, cluster, inner, data);
        }
    }

    /**
     * Threads allocate clusters at the end of a real file at once, so the file grows in steps
     * while others write into the step: no growing write may land on a client's byte.
     */
    @Test
    void concurrentFirstWritesIntoARealFile(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("disk.tdm");
        int threads = 4;
        int perThread = 200;
        ThinImage.create(path, SIZE, CLUSTER, false).close();
        int[] inner = new int[threads * perThread];
        byte[][] data = new byte[inner.length][];
        Random random = new Random(21);
        for (int i = 0; i < inner.length; i++) {
            // Often the last block, where a growing write lands.
            inner[i] = random.nextBoolean() ? CLUSTER - BLOCK : random.nextInt(CLUSTER - BLOCK);
            data[i] = pattern(BLOCK, i);
        }
        try (ThinImage image = ThinImage.open(path, false, AllocationListener.NONE)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t;
                    done.add(pool.submit(() -> {
                        // Interleaved cluster numbers, so that neighbouring clusters belong to different threads.
                        for (int i = first; i < inner.length; i += threads) {
                            image.write((long) i * CLUSTER + inner[i], ByteBuffer.wrap(data[i]), false);
                        }
                        return null;
                    }));
                }
                for (Future<?> future : done) {
                    future.get();
                }
            } finally {
                pool.shutdown();
            }
            for (int i = 0; i < inner.length; i++) {
                assertClusterHolds(image, i, inner[i], data[i]);
            }
        }
        assertThat(ImageChecker.check(path).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
        try (ThinImage image = ThinImage.open(path, true, AllocationListener.NONE)) {
            for (int i = 0; i < inner.length; i++) {
                assertClusterHolds(image, i, inner[i], data[i]);
            }
        }
    }

    @Test
    void aWholeClusterWriteStoresTheClientsBufferAsItIs() throws IOException {
        CrashableMemoryFile file = freshFile();
        byte[] data = pattern(3 * CLUSTER, 13);
        try (ThinImage image = ThinImage.open(file, false, listener)) {
            image.write(0, ByteBuffer.wrap(pattern(BLOCK, 14)), false);
            ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
            image.write(4L * CLUSTER, direct, false);
            assertThat(direct.hasRemaining()).isFalse();
            ByteBuffer got = ByteBuffer.allocate(data.length);
            image.read(4L * CLUSTER, got);
            assertThat(Arrays.equals(got.array(), data)).isTrue();
        }
    }
}
