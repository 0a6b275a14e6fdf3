package io.tidemark.image.thin;

import static io.tidemark.image.thin.ThinImageTest.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.FileSegment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ThinImage#contiguousData}: a range is handed out as one file segment only when every
 * cluster it touches is uncompressed data at consecutive file offsets, and a handed-out segment
 * keeps its bytes until released, even when its clusters are trimmed and the trim committed.
 */
class ThinImageContiguousDataTest {

    private static final int CLUSTER = 65536;
    private static final long SIZE = 64L * CLUSTER;

    @TempDir
    Path dir;

    private ThinImage create(boolean compress) throws IOException {
        return ThinImage.create(dir.resolve("disk.tdm"), SIZE, CLUSTER, compress);
    }

    private static byte[] contents(FileSegment segment) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(segment.length()));
        while (buffer.hasRemaining()) {
            int n = segment.channel().read(buffer, segment.position() + buffer.position());
            assertThat(n).isPositive();
        }
        return buffer.array();
    }

    @Test
    void aRunOfConsecutiveDataClustersIsOneSegmentOfTheRightBytes() throws IOException {
        byte[] data = pattern(3 * CLUSTER, 1);
        try (ThinImage image = create(false)) {
            image.write(2L * CLUSTER, ByteBuffer.wrap(data), false);
            long from = 2L * CLUSTER + 100;
            int length = 2 * CLUSTER + 5;
            FileSegment segment = image.contiguousData(from, length).orElseThrow();
            assertThat(segment.position()).isEqualTo(image.fileOffset(from));
            assertThat(segment.length()).isEqualTo(length);
            assertThat(contents(segment)).isEqualTo(Arrays.copyOfRange(data, 100, 100 + length));
            segment.release();
        }
    }

    /** Reads without waiting: data just written (page cache) and holes inside one cluster, nothing else. */
    @Test
    void readIfCachedServesDataAndHolesWithinOneCluster() throws IOException {
        byte[] data = pattern(CLUSTER, 7);
        try (ThinImage plain = create(false); ThinImage compressed = ThinImage.create(dir.resolve("c.tdm"), SIZE, CLUSTER, true)) {
            plain.write(3L * CLUSTER, ByteBuffer.wrap(data), false);
            ByteBuffer buf = ByteBuffer.allocateDirect(4096);
            assertThat(plain.readIfCached(3L * CLUSTER + 100, buf)).isTrue();
            byte[] got = new byte[4096];
            buf.flip().get(got);
            assertThat(got).isEqualTo(Arrays.copyOfRange(data, 100, 100 + 4096));

            ByteBuffer hole = ByteBuffer.allocateDirect(4096);
            hole.put(0, (byte) 1);
            assertThat(plain.readIfCached(9L * CLUSTER, hole)).isTrue();
            assertThat(hole.position()).isEqualTo(4096);
            assertThat(hole.get(0)).isZero();

            ByteBuffer across = ByteBuffer.allocateDirect(4096);
            assertThat(plain.readIfCached(4L * CLUSTER - 100, across)).isFalse(); // two clusters: read()
            assertThat(across.position()).isZero();

            byte[] text = new byte[CLUSTER];
            Arrays.fill(text, (byte) 't');
            compressed.write(0, ByteBuffer.wrap(text), false);
            assertThat(compressed.info().compressedClusters()).isEqualTo(1);
            ByteBuffer packed = ByteBuffer.allocateDirect(4096);
            assertThat(compressed.readIfCached(0, packed)).isFalse(); // must be decompressed: read()
            assertThat(packed.position()).isZero();
        }
    }

    @Test
    void clustersStoredOutOfOrderAreNoSegment() throws IOException {
        try (ThinImage image = create(false)) {
            image.write(5L * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 2)), false);
            image.write(4L * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 3)), false);
            assertThat(image.fileOffset(4L * CLUSTER)).isNotEqualTo(image.fileOffset(5L * CLUSTER) - CLUSTER);
            assertThat(image.contiguousData(4L * CLUSTER, 2 * CLUSTER)).isEmpty();
            // Each cluster alone is contiguous.
            image.contiguousData(4L * CLUSTER, CLUSTER).orElseThrow().release();
        }
    }

    @Test
    void holesAndRangesReachingIntoHolesAreNoSegment() throws IOException {
        try (ThinImage image = create(false)) {
            assertThat(image.contiguousData(0, CLUSTER)).isEmpty();
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 4)), false);
            assertThat(image.contiguousData(CLUSTER / 2, CLUSTER)).isEmpty();
            assertThat(image.contiguousData(0, CLUSTER)).isPresent().get().satisfies(FileSegment::release);
        }
    }

    @Test
    void compressedClustersAreNoSegment() throws IOException {
        byte[] text = new byte[CLUSTER];
        Arrays.fill(text, (byte) 't');
        try (ThinImage image = create(true)) {
            image.write(0, ByteBuffer.wrap(text), false);
            assertThat(image.info().compressedClusters()).isEqualTo(1);
            assertThat(image.contiguousData(0, CLUSTER)).isEmpty();
            assertThat(image.contiguousData(10, 100)).isEmpty();
        }
    }

    @Test
    void trimmedSpaceIsNotReusedWhileASegmentOfItIsHeld() throws IOException {
        byte[] old = pattern(CLUSTER, 5);
        byte[] next = pattern(CLUSTER, 6);
        try (ThinImage image = create(false)) {
            image.write(0, ByteBuffer.wrap(old), false);
            image.write(CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 7)), false); // keeps the file from shrinking
            long place = image.fileOffset(0);
            FileSegment segment = image.contiguousData(0, CLUSTER).orElseThrow();
            image.trim(0, CLUSTER, false);
            image.flush(); // the trim is durable: unpinned, the cluster would be free now
            image.write(10L * CLUSTER, ByteBuffer.wrap(next), false);
            image.flush();
            assertThat(image.fileOffset(10L * CLUSTER)).isNotEqualTo(place);
            assertThat(contents(segment)).isEqualTo(old);
            segment.release();

            image.write(20L * CLUSTER, ByteBuffer.wrap(next), false); // a change, so the next flush commits
            image.flush(); // frees what the pin deferred
            image.write(30L * CLUSTER, ByteBuffer.wrap(next), false);
            assertThat(image.fileOffset(30L * CLUSTER)).isEqualTo(place);
        }
    }

    @Test
    void anImageFileWithoutAChannelHandsOutNoSegments() throws IOException {
        Optional<FileSegment> segment;
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, false);
        try (ThinImage image = ThinImage.open(file, false, io.tidemark.image.AllocationListener.NONE)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 8)), false);
            segment = image.contiguousData(0, CLUSTER);
        }
        assertThat(segment).isEmpty();
    }
}
