package io.tidemark.image.thin;

import static io.tidemark.image.thin.ThinImageTest.pattern;
import static io.tidemark.image.thin.ThinImageTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Requests spanning clusters that are stored at consecutive physical offsets go to the file as one
 * read or write, not one per cluster; runs stop where the clusters stop being consecutive, and the
 * data reads back the same either way.
 */
class ThinImageRunIoTest {

    private static final int CLUSTER = 65536;
    private static final int MIB = 1 << 20;

    /** Records the size of every read and every data-sized write (file growth writes one byte). */
    private static final class CountingFile implements ImageFile {
        final CrashableMemoryFile file;
        final List<Integer> reads = new ArrayList<>();
        final List<Integer> writes = new ArrayList<>();

        CountingFile(CrashableMemoryFile file) {
            this.file = file;
        }

        void reset() {
            reads.clear();
            writes.clear();
        }

        @Override
        public String name() {
            return file.name();
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            reads.add(dst.remaining());
            return file.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            if (src.remaining() > 1) {
                writes.add(src.remaining());
            }
            file.write(src, position);
        }

        @Override
        public void force() throws IOException {
            file.force();
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            file.truncate(size);
        }

        @Override
        public boolean releaseSpace(long offset, long length) throws IOException {
            return file.releaseSpace(offset, length);
        }

        @Override
        public void close() {
            file.close();
        }
    }

    private static CountingFile fresh(long size, int clusterSize) throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, size, clusterSize, false);
        return new CountingFile(file.reopened());
    }

    @Test
    void firstWriteOverwriteAndReadOfOneMebibyteAreOneCallEach() throws IOException {
        CountingFile file = fresh(64L * MIB, CLUSTER);
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            image.write(0, ByteBuffer.allocate(1), false); // sets the dirty flag: one header write
            file.reset();
            byte[] first = pattern(MIB, 1);
            image.write(MIB, ByteBuffer.wrap(first), false);
            assertThat(file.writes).as("first write of 16 clusters").containsExactly(MIB);

            file.reset();
            assertThat(read(image, MIB, MIB)).isEqualTo(first);
            assertThat(file.reads).as("read of 16 consecutive clusters").containsExactly(MIB);

            file.reset();
            byte[] second = pattern(MIB, 2);
            image.write(MIB, ByteBuffer.wrap(second), false);
            assertThat(file.writes).as("overwrite of 16 consecutive clusters").containsExactly(MIB);
            assertThat(read(image, MIB, MIB)).isEqualTo(second);
        }
    }

    @Test
    void runsStopWhereClustersAreNotConsecutive() throws IOException {
        CountingFile file = fresh(64L * MIB, CLUSTER);
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            // Guest cluster 3 gets its storage first, so clusters 0-2 and 4-15 of the big write are
            // allocated after it: physically 0,1,2 | 3 | 4..15 are three runs.
            byte[] early = pattern(CLUSTER, 3);
            image.write(3L * CLUSTER, ByteBuffer.wrap(early), false);
            byte[] big = pattern(MIB, 4);
            file.reset();
            image.write(0, ByteBuffer.wrap(big), false);
            assertThat(file.writes).containsExactly(3 * CLUSTER, CLUSTER, 12 * CLUSTER);
            file.reset();
            assertThat(read(image, 0, MIB)).isEqualTo(big);
            assertThat(file.reads).containsExactly(3 * CLUSTER, CLUSTER, 12 * CLUSTER);
        }
    }

    @Test
    void unalignedRequestsAndHolesReadBackExactly() throws IOException {
        CountingFile file = fresh(64L * MIB, CLUSTER);
        byte[] model = new byte[4 * MIB];
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            Random random = new Random(5);
            for (int i = 0; i < 200; i++) {
                int offset = random.nextInt(model.length - 1);
                int length = 1 + random.nextInt(Math.min(3 * CLUSTER, model.length - offset));
                if (random.nextInt(4) == 0) {
                    image.writeZeroes(offset, length, io.tidemark.image.ZeroMode.MAY_TRIM, false);
                    java.util.Arrays.fill(model, offset, offset + length, (byte) 0);
                } else {
                    byte[] data = pattern(length, i);
                    image.write(offset, ByteBuffer.wrap(data), false);
                    System.arraycopy(data, 0, model, offset, length);
                }
                if (i % 50 == 0) {
                    image.flush();
                }
            }
            assertThat(read(image, 0, model.length)).isEqualTo(model);
            int from = 12345;
            assertThat(read(image, from, 2 * MIB)).isEqualTo(java.util.Arrays.copyOfRange(model, from, from + 2 * MIB));
        }
    }

    @Test
    void runsAcrossTheLockStripesWrapAroundCorrectly() throws IOException {
        int cluster = 4096;
        // Guest clusters 1020..1035 cross the wrap of the 1024 lock stripes.
        long offset = 1020L * cluster;
        CountingFile file = fresh(64L * MIB, cluster);
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            byte[] data = pattern(16 * cluster, 6);
            image.write(offset, ByteBuffer.wrap(data), false);
            assertThat(read(image, offset, data.length)).isEqualTo(data);
            image.flush();
        }
        try (ThinImage image = ThinImage.open(new CountingFile(file.file.reopened()), true, AllocationListener.NONE)) {
            assertThat(read(image, offset, 16 * cluster)).isEqualTo(pattern(16 * cluster, 6));
        }
    }
}
