package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Commits as map deltas while the entries changed since the last checkpoint fit in one cluster,
 * as checkpoints (tables and L1) beyond that and at a clean close; a delta replaces the tables'
 * entries on open, also when it says a cluster is now unallocated.
 */
class ThinImageMapDeltaTest {

    private static final int CLUSTER = 4096;
    /** Four L2 tables of 512 entries with 4 KiB clusters. */
    private static final long SIZE = 8L * 1024 * 1024;
    private static final long TABLE_SPAN = 512L * CLUSTER;
    /** Entries in one map delta with 4 KiB clusters. */
    private static final int DELTA_CAPACITY = CLUSTER / ImageFormat.DELTA_ENTRY_SIZE;

    private static byte[] pattern(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] read(ThinImage image, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        image.read(offset, buffer);
        return buffer.array();
    }

    private static CrashableMemoryFile fresh() throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, false);
        return file.reopened();
    }

    private static ImageHeader header(CrashableMemoryFile file) throws IOException {
        return ImageLoader.readHeader(file, file.size());
    }

    @Test
    void scatteredWritesCommitAsOneDeltaThatAReopenWithoutCloseApplies() throws IOException {
        CrashableMemoryFile file = fresh();
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        long tablesBefore = header(file).l1Offset();
        for (int t = 0; t < 4; t++) {
            image.write(t * TABLE_SPAN + 7 * CLUSTER + 100, ByteBuffer.wrap(pattern(300, t)), false);
        }
        long written = file.bytesWritten();
        image.flush();
        ImageHeader delta = header(file);
        assertThat(delta.deltaEntries()).isEqualTo(4);
        assertThat(delta.incompatibleFeatures() & ImageFormat.INCOMPATIBLE_MAP_DELTA).isNotZero();
        assertThat(delta.l1Offset()).as("no checkpoint: the L1 stays").isEqualTo(tablesBefore);
        assertThat(file.bytesWritten() - written).as("a delta and a header, no tables")
                .isLessThan(CLUSTER);

        // The process dies: the reopened image has the delta's entries, and check finds no fault.
        CrashableMemoryFile crashed = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(1));
        assertThat(ImageChecker.check(crashed).corruptions()).isEmpty();
        try (ThinImage reopened = ThinImage.open(crashed, false, AllocationListener.NONE)) {
            for (int t = 0; t < 4; t++) {
                byte[] expected = new byte[CLUSTER];
                System.arraycopy(pattern(300, t), 0, expected, 100, 300);
                assertThat(read(reopened, t * TABLE_SPAN + 7 * CLUSTER, CLUSTER)).isEqualTo(expected);
            }
            // The next delta carries the loaded entries on.
            reopened.write(9 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 9)), true);
            assertThat(header(crashed).deltaEntries()).isEqualTo(5);
        }
        ImageHeader closed = header(crashed);
        assertThat(closed.deltaEntries()).as("a clean close checkpoints").isZero();
        assertThat(closed.incompatibleFeatures() & ImageFormat.INCOMPATIBLE_MAP_DELTA).isZero();
        assertThat(ImageChecker.check(crashed).isClean()).isTrue();
        try (ThinImage reopened = ThinImage.open(crashed, true, AllocationListener.NONE)) {
            assertThat(read(reopened, 9 * CLUSTER, CLUSTER)).isEqualTo(pattern(CLUSTER, 9));
            assertThat(read(reopened, 3 * TABLE_SPAN + 7 * CLUSTER + 100, 300)).isEqualTo(pattern(300, 3));
        }
        image.close();
    }

    @Test
    void moreChangesThanOneDeltaHoldsMakeACheckpoint() throws IOException {
        CrashableMemoryFile file = fresh();
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1)), true);
            ImageHeader first = header(file);
            assertThat(first.deltaEntries()).isEqualTo(1);
            image.writeZeroes(TABLE_SPAN, (DELTA_CAPACITY + 1L) * CLUSTER, ZeroMode.NO_HOLE, false);
            image.flush();
            ImageHeader checkpoint = header(file);
            assertThat(checkpoint.deltaEntries()).isZero();
            assertThat(checkpoint.l1Offset()).as("a new L1").isNotEqualTo(first.l1Offset());
            // After the checkpoint, deltas start empty again.
            image.write(2 * TABLE_SPAN, ByteBuffer.wrap(pattern(CLUSTER, 2)), true);
            assertThat(header(file).deltaEntries()).isEqualTo(1);
            assertThat(header(file).l1Offset()).isEqualTo(checkpoint.l1Offset());
        }
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            assertThat(read(image, 0, CLUSTER)).isEqualTo(pattern(CLUSTER, 1));
            assertThat(read(image, 2 * TABLE_SPAN, CLUSTER)).isEqualTo(pattern(CLUSTER, 2));
        }
    }

    @Test
    void aDeltaThatUnmapsAClusterHidesTheTablesEntryAndFreesItsSpace() throws IOException {
        CrashableMemoryFile file = fresh();
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            image.write(5 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 5)), false);
        }
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        long place = image.fileOffset(5 * CLUSTER);
        image.trim(5 * CLUSTER, CLUSTER, true);
        assertThat(header(file).deltaEntries()).isEqualTo(1);
        // Space the delta freed is reused once the delta is durable.
        image.write(6 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 6)), true);
        assertThat(image.fileOffset(6 * CLUSTER)).isEqualTo(place);

        CrashableMemoryFile crashed = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(2));
        assertThat(ImageChecker.check(crashed).corruptions()).as("the stale table entry is no reference").isEmpty();
        try (ThinImage reopened = ThinImage.open(crashed, true, AllocationListener.NONE)) {
            assertThat(read(reopened, 5 * CLUSTER, CLUSTER)).isEqualTo(new byte[CLUSTER]);
            assertThat(read(reopened, 6 * CLUSTER, CLUSTER)).isEqualTo(pattern(CLUSTER, 6));
        }
        image.close();
    }

    @Test
    void aCorruptDeltaFailsTheOpenNamingItsOffset() throws IOException {
        CrashableMemoryFile file = fresh();
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1)), true);
        long deltaAt = header(file).deltaOffset();
        CrashableMemoryFile broken = file.reopened();
        broken.poke(deltaAt + 3, new byte[] {0x55});
        assertThatThrownBy(() -> ThinImage.open(broken, true, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class)
                .hasMessageContaining("at offset " + deltaAt + " ")
                .hasMessageContaining("map delta checksum mismatch");
        assertThat(ImageChecker.check(broken).corruptions()).hasSize(1);
        image.close();
    }

    @Test
    void aHeaderWhoseDeltaFieldsDisagreeWithTheFeatureBitIsRefused() throws IOException {
        CrashableMemoryFile file = fresh();
        ImageSurgeon.pokeHeaderInt(file, ImageHeader.OFF_DELTA_ENTRIES, 3);
        assertThatThrownBy(() -> ThinImage.open(file, true, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class)
                .hasMessageContaining("at offset " + ImageHeader.OFF_DELTA_ENTRIES + " ")
                .hasMessageContaining("map delta of 3 entries without the map delta feature bit");
    }

    /** An image with guest clusters 1..3 written and committed as a map delta, never closed. */
    private static CrashableMemoryFile imageWithDelta() throws IOException {
        CrashableMemoryFile file = fresh();
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 0)), false);
        }
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        for (int c = 1; c <= 3; c++) {
            image.write(c * TABLE_SPAN / 2, ByteBuffer.wrap(pattern(CLUSTER, c)), false);
        }
        image.flush();
        CrashableMemoryFile crashed = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(3));
        image.close();
        assertThat(header(crashed).deltaEntries()).isEqualTo(3);
        return crashed;
    }

    /** Replaces delta entry {@code index}'s L2 entry, re-checksumming the delta and the header. */
    private static void setDeltaEntry(CrashableMemoryFile file, int index, long entry) throws IOException {
        ImageHeader header = header(file);
        ByteBuffer delta = ByteBuffer.allocate(header.deltaEntries() * ImageFormat.DELTA_ENTRY_SIZE);
        file.readFully(delta, header.deltaOffset());
        delta.putLong(index * ImageFormat.DELTA_ENTRY_SIZE + 8, entry);
        file.poke(header.deltaOffset(), delta.array());
        ImageSurgeon.pokeHeaderInt(file, ImageHeader.OFF_DELTA_CHECKSUM,
                ImageHeader.checksum(delta.array(), 0, delta.capacity()));
    }

    @Test
    void repairDropsAnInvalidDeltaEntryAndCheckpoints() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        setDeltaEntry(file, 1, MapEntry.data(1L << 40));
        CheckResult check = ImageChecker.check(file);
        assertThat(check.corruptions()).singleElement().satisfies(problem -> assertThat(problem.message())
                .contains("map delta entry for guest offset " + 2 * (TABLE_SPAN / 2)).contains("past end of file"));

        assertThat(ImageChecker.repair(file)).anySatisfy(repair -> assertThat(repair).contains("map delta entry"));
        assertThat(ImageChecker.check(file).isClean()).isTrue();
        assertThat(header(file).deltaEntries()).as("the repair checkpoints").isZero();
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            assertThat(read(image, 0, CLUSTER)).isEqualTo(pattern(CLUSTER, 0));
            assertThat(read(image, TABLE_SPAN / 2, CLUSTER)).isEqualTo(pattern(CLUSTER, 1));
            assertThat(read(image, 2 * (TABLE_SPAN / 2), CLUSTER)).as("dropped: reads as zeroes").isEqualTo(new byte[CLUSTER]);
            assertThat(read(image, 3 * (TABLE_SPAN / 2), CLUSTER)).isEqualTo(pattern(CLUSTER, 3));
        }
    }

    @Test
    void aDisorderedDeltaIsCorruptionThatRepairLeavesAlone() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        ImageHeader header = header(file);
        ByteBuffer delta = ByteBuffer.allocate(header.deltaEntries() * ImageFormat.DELTA_ENTRY_SIZE);
        file.readFully(delta, header.deltaOffset());
        delta.putLong(ImageFormat.DELTA_ENTRY_SIZE, 0);
        file.poke(header.deltaOffset(), delta.array());
        ImageSurgeon.pokeHeaderInt(file, ImageHeader.OFF_DELTA_CHECKSUM,
                ImageHeader.checksum(delta.array(), 0, delta.capacity()));
        assertThatThrownBy(() -> ThinImage.open(file, true, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class)
                .hasMessageContaining("at offset " + (header.deltaOffset() + ImageFormat.DELTA_ENTRY_SIZE) + " ")
                .hasMessageContaining("map delta entry 1: guest cluster 0 does not follow");
        byte[] before = file.contents();
        assertThat(ImageChecker.repair(file)).singleElement().satisfies(repair -> assertThat(repair).startsWith("not repaired"));
        assertThat(file.contents()).as("nothing written").isEqualTo(before);
    }

    @Test
    void compactionOfAnImageWithADeltaKeepsItsDataAndLeavesNoDelta() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        ImageCompactor.compact(ThinImage.open(file, false, AllocationListener.NONE), ProgressListener.NONE);
        assertThat(ImageChecker.check(file).isClean()).isTrue();
        assertThat(header(file).deltaEntries()).isZero();
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            for (int c = 0; c <= 3; c++) {
                assertThat(read(image, c * (TABLE_SPAN / 2), CLUSTER)).isEqualTo(pattern(CLUSTER, c));
            }
        }
    }
}
