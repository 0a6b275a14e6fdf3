package io.tidemark.image.thin;

import static io.tidemark.image.thin.ThinImageTest.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ThinImage#writeIfQuick}: a write goes in place only when every cluster it touches is
 * stored as plain data, the image is marked dirty already and no cluster is locked for writing;
 * otherwise nothing is written and the caller takes the ordinary path.
 */
class ThinImageQuickWriteTest {

    private static final int CLUSTER = 65536;
    private static final long SIZE = 64L * CLUSTER;

    @TempDir
    Path dir;

    private ThinImage create(String name, boolean compress) throws IOException {
        return ThinImage.create(dir.resolve(name), SIZE, CLUSTER, compress);
    }

    private static ByteBuffer direct(byte[] bytes) {
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    private static byte[] read(ThinImage image, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        image.read(offset, buffer);
        return buffer.array();
    }

    @Test
    void overwritesOfDataClustersGoInPlaceAndSurviveReopening() throws IOException {
        Path path = dir.resolve("disk.tdm");
        byte[] head = pattern(CLUSTER, 1);
        byte[] tail = pattern(CLUSTER + 300, 2);
        try (ThinImage image = create("disk.tdm", false)) {
            image.write(CLUSTER, ByteBuffer.wrap(new byte[4 * CLUSTER]), false); // clusters 1..4 allocated
            image.write(10L * CLUSTER, ByteBuffer.wrap(new byte[CLUSTER]), false); // cluster 10, elsewhere in the file
            long usage = image.usage();
            ByteBuffer first = direct(head);
            ByteBuffer second = direct(tail);
            assertThat(image.writeIfQuick(CLUSTER + 100, first, second)).isTrue();
            assertThat(first.hasRemaining() || second.hasRemaining()).isFalse();
            assertThat(image.usage()).as("nothing allocated").isEqualTo(usage);
            byte[] both = pattern(2 * CLUSTER, 3);
            // cluster 9 lands after cluster 10 in the file: one write across them is two calls
            image.write(9L * CLUSTER, ByteBuffer.wrap(new byte[CLUSTER]), false);
            assertThat(image.writeIfQuick(4L * CLUSTER, direct(Arrays.copyOf(both, CLUSTER)))).isTrue();
            assertThat(image.writeIfQuick(9L * CLUSTER + 7, direct(Arrays.copyOfRange(both, 7, 2 * CLUSTER)))).isTrue();
            assertThat(read(image, CLUSTER + 100, head.length)).isEqualTo(head);
            assertThat(read(image, 9L * CLUSTER + 7, 2 * CLUSTER - 7)).isEqualTo(Arrays.copyOfRange(both, 7, 2 * CLUSTER));
        }
        try (ThinImage image = ThinImage.open(path, true, AllocationListener.NONE)) {
            assertThat(read(image, CLUSTER + 100, head.length)).isEqualTo(head);
            assertThat(read(image, CLUSTER + 100 + head.length, tail.length)).isEqualTo(tail);
            assertThat(read(image, 4L * CLUSTER, CLUSTER)).isEqualTo(Arrays.copyOf(pattern(2 * CLUSTER, 3), CLUSTER));
        }
    }

    @Test
    void aWriteThatWouldAllocateIsRefusedWithNothingWritten() throws IOException {
        try (ThinImage image = create("disk.tdm", false)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 4)), false); // cluster 0 only
            long usage = image.usage();
            ByteBuffer across = direct(pattern(2 * CLUSTER, 5));
            assertThat(image.writeIfQuick(100, across)).as("reaches unallocated cluster 1").isFalse();
            assertThat(across.position()).isZero();
            assertThat(read(image, 0, CLUSTER)).isEqualTo(pattern(CLUSTER, 4));
            assertThat(read(image, CLUSTER, CLUSTER)).isEqualTo(new byte[CLUSTER]);
            assertThat(image.writeIfQuick(5L * CLUSTER, direct(pattern(512, 6)))).as("a hole").isFalse();
            image.writeZeroes(0, CLUSTER, new ZeroMode(true, false), false);
            assertThat(image.writeIfQuick(0, direct(pattern(512, 7)))).as("trimmed to a hole").isFalse();
            assertThat(image.usage()).isLessThanOrEqualTo(usage);
        }
    }

    @Test
    void aFreshlyOpenedImageMustBeMarkedDirtyByAnOrdinaryWriteFirst() throws IOException {
        Path path = dir.resolve("disk.tdm");
        try (ThinImage image = create("disk.tdm", false)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 8)), false);
        }
        try (ThinImage image = ThinImage.open(path, false, AllocationListener.NONE)) {
            assertThat(image.writeIfQuick(0, direct(pattern(512, 9)))).as("marking dirty is a commit").isFalse();
            image.write(CLUSTER - 512, ByteBuffer.wrap(pattern(512, 10)), false);
            assertThat(image.writeIfQuick(0, direct(pattern(512, 9)))).isTrue();
            assertThat(read(image, 0, 512)).isEqualTo(pattern(512, 9));
        }
    }

    @Test
    void compressedAndReadOnlyImagesAreNeverQuick() throws IOException {
        try (ThinImage compressed = create("c.tdm", true)) {
            compressed.write(0, ByteBuffer.wrap(pattern(CLUSTER, 11)), false);
            assertThat(compressed.writeIfQuick(0, direct(pattern(512, 12)))).isFalse();
        }
        try (ThinImage image = create("disk.tdm", false)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 13)), false);
        }
        try (ThinImage readOnly = ThinImage.open(dir.resolve("disk.tdm"), true, AllocationListener.NONE)) {
            assertThat(readOnly.writeIfQuick(0, direct(pattern(512, 14)))).isFalse();
        }
    }

    /** A quick write is made durable by the next flush, like any other: it survives a crash after it. */
    @Test
    void theNextFlushMakesAQuickWriteDurable() throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, false);
        file = file.reopened();
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 19)), false);
        image.flush();
        assertThat(image.writeIfQuick(100, direct(pattern(512, 20)))).isTrue();
        image.flush();
        CrashableMemoryFile crashed = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(1));
        try (ThinImage reopened = ThinImage.open(crashed, true, AllocationListener.NONE)) {
            assertThat(read(reopened, 100, 512)).isEqualTo(pattern(512, 20));
        }
        image.close();
    }

    @Test
    void aClusterLockedForWritingIsRefusedAndLeavesNoLockBehind() throws Exception {
        try (ThinImage image = create("disk.tdm", false)) {
            image.write(0, ByteBuffer.wrap(pattern(2 * CLUSTER, 15)), false);
            long stamp = image.clusterLocks().forCluster(1).writeLock();
            try {
                assertThat(image.writeIfQuick(CLUSTER - 10, direct(pattern(20, 16)))).isFalse();
                assertThat(image.clusterLocks().forCluster(0).isReadLocked()).as("cluster 0's lock given back").isFalse();
                assertThat(image.writeIfQuick(0, direct(pattern(20, 17)))).as("cluster 0 is free").isTrue();
                assertThat(image.clusterLocks().forCluster(0).isReadLocked()).isFalse();
            } finally {
                image.clusterLocks().forCluster(1).unlockWrite(stamp);
            }
            assertThat(read(image, CLUSTER - 10, 20)).isEqualTo(Arrays.copyOfRange(pattern(2 * CLUSTER, 15), CLUSTER - 10, CLUSTER + 10));
            assertThat(image.writeIfQuick(CLUSTER - 10, direct(pattern(20, 16)))).isTrue();
        }
    }
}
