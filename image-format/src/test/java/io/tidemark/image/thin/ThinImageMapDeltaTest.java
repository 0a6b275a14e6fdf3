package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.ExtentType;
import io.tidemark.image.NoSpaceException;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Commits as map deltas while the entries changed since the last checkpoint fit in one cluster,
 * as checkpoints (tables and L1) beyond that and at a clean close; a delta replaces the tables'
 * entries on open, also when it says a cluster is now unallocated. Malformed deltas are refused on
 * open with the offset and what is wrong, and nothing is written. Space a delta commit freed and
 * another cluster took survives a checkpoint that runs out of host space at any write, and a
 * crash after it; a checkpoint writes each table's own entries, never those a table written
 * before it left in the pooled buffer; a resize over a delta checkpoints.
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

    /** A fresh image with guest cluster 5 written and closed: in the tables, not in a delta. */
    private static CrashableMemoryFile withClusterFiveClosed() throws IOException {
        CrashableMemoryFile file = fresh();
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            image.write(5 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 5)), false);
        }
        return file;
    }

    @Test
    void aDeltaThatUnmapsAClusterHidesTheTablesEntryAndFreesItsSpace() throws IOException {
        CrashableMemoryFile file = withClusterFiveClosed();
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
        ByteBuffer delta = readDelta(file);
        delta.putLong(index * ImageFormat.DELTA_ENTRY_SIZE + 8, entry);
        placeDelta(file, delta, header(file).deltaOffset());
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
        setDeltaCluster(file, 1, c -> 0);
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

    private static ByteBuffer readDelta(CrashableMemoryFile file) throws IOException {
        ImageHeader header = header(file);
        ByteBuffer delta = ByteBuffer.allocate(header.deltaEntries() * ImageFormat.DELTA_ENTRY_SIZE);
        file.readFully(delta, header.deltaOffset());
        return delta;
    }

    /** Writes {@code delta} at {@code offset} and names it in the header, checksums made valid. */
    private static void placeDelta(CrashableMemoryFile file, ByteBuffer delta, long offset) throws IOException {
        file.poke(offset, delta.array());
        ImageSurgeon.pokeHeaderLong(file, ImageHeader.OFF_DELTA_OFFSET, offset);
        ImageSurgeon.pokeHeaderInt(file, ImageHeader.OFF_DELTA_CHECKSUM,
                ImageHeader.checksum(delta.array(), 0, delta.capacity()));
    }

    /** Sets the guest cluster of delta entry {@code index}, keeping the checksums valid. */
    private static void setDeltaCluster(CrashableMemoryFile file, int index, LongUnaryOperator cluster)
            throws IOException {
        ByteBuffer delta = readDelta(file);
        int at = index * ImageFormat.DELTA_ENTRY_SIZE;
        delta.putLong(at, cluster.applyAsLong(delta.getLong(at)));
        placeDelta(file, delta, header(file).deltaOffset());
    }

    /** Opening for writing fails naming the file, the offset and the fault, and writes nothing. */
    private static void assertRefused(CrashableMemoryFile file, long offset, String what) throws IOException {
        byte[] before = file.contents();
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class)
                .hasMessageContaining("memory-image")
                .hasMessageContaining("at offset " + offset + " ")
                .hasMessageContaining(what);
        assertThat(file.contents()).as("nothing written").isEqualTo(before);
        assertThat(ImageChecker.check(file).exitCode()).as("check reports corruption").isEqualTo(2);
    }

    @Test
    void aDeltaEntryBeyondTheVirtualSizeIsRefused() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        long clusters = SIZE / CLUSTER;
        setDeltaCluster(file, 2, c -> clusters);
        assertRefused(file, header(file).deltaOffset() + 2 * ImageFormat.DELTA_ENTRY_SIZE,
                "map delta entry 2: guest cluster " + clusters + " beyond the virtual size (" + clusters + " clusters)");
    }

    @Test
    void aDuplicatedDeltaEntryIsRefused() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        long previous = readDelta(file).getLong(ImageFormat.DELTA_ENTRY_SIZE);
        setDeltaCluster(file, 2, c -> previous);
        assertRefused(file, header(file).deltaOffset() + 2 * ImageFormat.DELTA_ENTRY_SIZE,
                "map delta entry 2: guest cluster " + previous + " does not follow the previous entry's " + previous);
    }

    @Test
    void aDeltaPastTheEndOfTheFileIsRefused() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        long past = file.size() / CLUSTER * CLUSTER + CLUSTER;
        ImageSurgeon.pokeHeaderLong(file, ImageHeader.OFF_DELTA_OFFSET, past);
        assertRefused(file, past, "map delta of 48 bytes extends past end of file");
    }

    @Test
    void aDeltaThatSharesItsClusterWithDataIsRefused() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        long data = ImageLoader.load(file, ImageLoader.Mode.STRICT).map().get(0) & MapEntry.OFFSET_MASK;
        assertThat(data).isPositive();
        placeDelta(file, readDelta(file), data);
        assertRefused(file, data, "is referenced more than once");
        // Repair gives cluster 0 a private copy (of what its place holds now) and drops the delta
        // into the tables: the delta's clusters keep their data.
        assertThat(ImageChecker.repair(file)).anySatisfy(repair -> assertThat(repair).contains("private copy"));
        assertThat(ImageChecker.check(file).isClean()).isTrue();
        assertThat(header(file).deltaEntries()).isZero();
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            for (int c = 1; c <= 3; c++) {
                assertThat(read(image, c * (TABLE_SPAN / 2), CLUSTER)).isEqualTo(pattern(CLUSTER, c));
            }
        }
    }

    @Test
    void moreDeltaEntriesThanOneClusterHoldsAreRefused() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        long slot = header(file).slotOffset();
        ImageSurgeon.pokeHeaderInt(file, ImageHeader.OFF_DELTA_ENTRIES, DELTA_CAPACITY + 1);
        assertRefused(file, slot + ImageHeader.OFF_DELTA_ENTRIES,
                "map delta of " + (DELTA_CAPACITY + 1) + " entries with the map delta feature bit (must be 1.."
                        + DELTA_CAPACITY);
    }

    @Test
    void theDeltaFeatureBitWithoutEntriesIsRefused() throws IOException {
        CrashableMemoryFile file = fresh();
        ImageSurgeon.pokeHeaderLong(file, ImageHeader.OFF_INCOMPATIBLE, ImageFormat.INCOMPATIBLE_MAP_DELTA);
        assertRefused(file, ImageHeader.OFF_DELTA_ENTRIES, "map delta of 0 entries with the map delta feature bit");
    }

    /**
     * A checkpoint of more tables than the pooled buffers hold (4097 tables of 4 KiB, 16 MiB and
     * a table) encodes them into heap buffers; each reads back after a crash.
     */
    @Test
    void aCheckpointOfMoreTablesThanThePoolHoldsWritesEachTable() throws IOException {
        int tables = (int) (TableBuffer.POOL_LIMIT / CLUSTER) + 1;
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, tables * TABLE_SPAN, CLUSTER, false);
        CrashableMemoryFile disk = file.reopened();
        ThinImage image = ThinImage.open(disk, false, AllocationListener.NONE);
        for (int t = 0; t < tables; t++) {
            image.write(t * TABLE_SPAN + (t % 512) * CLUSTER, ByteBuffer.wrap(new byte[] {(byte) t, (byte) (t >> 8), 1}),
                    false);
        }
        image.flush();
        assertThat(header(disk).deltaEntries()).as("a checkpoint").isZero();
        CrashableMemoryFile crashed = disk.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(6));
        image.close();
        try (ThinImage reopened = ThinImage.open(crashed, true, AllocationListener.NONE)) {
            for (int t = 0; t < tables; t++) {
                assertThat(read(reopened, t * TABLE_SPAN + (t % 512) * CLUSTER, 4))
                        .as("table %d", t).containsExactly((byte) t, (byte) (t >> 8), 1, 0);
            }
        }
    }

    /**
     * Tools that look at an image a writer holds open (force-share) see the writer's last commit,
     * a map delta over the tables, even after the delta freed a cluster that another then took.
     */
    @Test
    void aForceShareReaderSeesTheWritersLastDelta(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("disk.tdm");
        ThinImage.create(path, SIZE, CLUSTER, false).close();
        try (ThinImage writer = ThinImage.open(path, false, AllocationListener.NONE)) {
            writer.write(5 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 5)), true);
            writer.write(TABLE_SPAN, ByteBuffer.wrap(pattern(CLUSTER, 1)), true);
            long place = writer.fileOffset(5 * CLUSTER);
            writer.trim(5 * CLUSTER, CLUSTER, true);
            writer.write(6 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 6)), true);
            assertThat(writer.fileOffset(6 * CLUSTER)).isEqualTo(place);
            writer.write(7 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 7)), false);
            assertThat(ImageChecker.checkForceShare(path, ProgressListener.NONE).corruptions()).isEmpty();
            try (ThinImage reader = ThinImage.openForceShare(path)) {
                assertThat(read(reader, 5 * CLUSTER, CLUSTER)).isEqualTo(new byte[CLUSTER]);
                assertThat(read(reader, 6 * CLUSTER, CLUSTER)).isEqualTo(pattern(CLUSTER, 6));
                assertThat(read(reader, TABLE_SPAN, CLUSTER)).isEqualTo(pattern(CLUSTER, 1));
                assertThat(read(reader, 7 * CLUSTER, CLUSTER)).as("not flushed yet").isEqualTo(new byte[CLUSTER]);
            }
        }
    }

    /**
     * A resize of an image opened with a delta checkpoints (the delta's entries go into the
     * tables); the next delta may then name clusters beyond the old size, and both survive a crash.
     */
    @Test
    void aResizeOverALoadedDeltaCheckpointsAndLaterDeltasReachTheNewClusters() throws IOException {
        CrashableMemoryFile file = imageWithDelta();
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        image.resize(2 * SIZE);
        ImageHeader resized = header(file);
        assertThat(resized.deltaEntries()).as("the resize checkpoints").isZero();
        assertThat(resized.virtualSize()).isEqualTo(2 * SIZE);
        CrashableMemoryFile afterResize = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(4));
        long beyond = SIZE + 3 * CLUSTER;
        image.write(beyond, ByteBuffer.wrap(pattern(CLUSTER, 9)), true);
        assertThat(header(file).deltaEntries()).isEqualTo(1);
        CrashableMemoryFile afterDelta = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(5));
        image.close();
        for (CrashableMemoryFile crashed : new CrashableMemoryFile[] {afterResize, afterDelta}) {
            assertThat(ImageChecker.check(crashed).corruptions()).isEmpty();
            try (ThinImage reopened = ThinImage.open(crashed, true, AllocationListener.NONE)) {
                assertThat(reopened.size()).isEqualTo(2 * SIZE);
                for (int c = 0; c <= 3; c++) {
                    assertThat(read(reopened, c * (TABLE_SPAN / 2), CLUSTER)).isEqualTo(pattern(CLUSTER, c));
                }
                assertThat(read(reopened, beyond, CLUSTER))
                        .isEqualTo(crashed == afterDelta ? pattern(CLUSTER, 9) : new byte[CLUSTER]);
            }
        }
    }

    /**
     * Guest cluster 5's space, freed by a delta commit (its table on disk still names it), goes to
     * cluster 6; then more than a delta's worth of zeroing makes the next commit a checkpoint, and
     * the host runs out of space at write {@code writesBeforeFull} from the delta commit of
     * cluster 6 on. However far that got, a crash leaves an image without corruption in which 5
     * reads as zeroes (its trim was flushed) and 6 as its data or, unflushed, as zeroes; once
     * space returns, the same object commits everything.
     */
    @ParameterizedTest(name = "full after {0} writes")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
    void spaceFreedByADeltaAndReusedSurvivesAFailedCheckpointAndACrash(int writesBeforeFull) throws IOException {
        CrashableMemoryFile file = withClusterFiveClosed();
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        long place = image.fileOffset(5 * CLUSTER);
        image.trim(5 * CLUSTER, CLUSTER, true);
        image.write(6 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 6)), false);
        assertThat(image.fileOffset(6 * CLUSTER)).as("6 took the space 5's delta freed").isEqualTo(place);

        file.runOutOfSpaceAfter(writesBeforeFull);
        boolean sixFlushed = tryFlush(image);
        image.writeZeroes(TABLE_SPAN, (DELTA_CAPACITY + 8L) * CLUSTER, ZeroMode.NO_HOLE, false);
        boolean checkpointed = tryFlush(image);
        sixFlushed |= checkpointed;
        assertThat(file.noSpaceFailures() > 0 || checkpointed).isTrue();

        for (CrashableMemoryFile.Survival survival : CrashableMemoryFile.Survival.values()) {
            CrashableMemoryFile crashed = file.afterCrash(survival, new Random(writesBeforeFull));
            assertThat(ImageChecker.check(crashed).corruptions()).as("corruption after %s", survival).isEmpty();
            try (ThinImage reopened = ThinImage.open(crashed, false, AllocationListener.NONE)) {
                assertThat(read(reopened, 5 * CLUSTER, CLUSTER)).as("trimmed 5 (%s)", survival)
                        .isEqualTo(new byte[CLUSTER]);
                byte[] six = read(reopened, 6 * CLUSTER, CLUSTER);
                if (sixFlushed) {
                    assertThat(six).as("flushed 6 (%s)", survival).isEqualTo(pattern(CLUSTER, 6));
                } else {
                    assertThat(six).as("6 (%s)", survival).isIn(new byte[CLUSTER], pattern(CLUSTER, 6));
                }
                // Carry on after the crash: a checkpoint over what the crash left.
                reopened.write(7 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 7)), true);
            }
            assertThat(ImageChecker.check(crashed).exitCode()).as("check after a clean close (%s)", survival).isZero();
        }

        file.freeSpace();
        image.flush();
        image.close();
        assertThat(ImageChecker.check(file).exitCode()).isZero();
        try (ThinImage reopened = ThinImage.open(file, true, AllocationListener.NONE)) {
            assertThat(read(reopened, 5 * CLUSTER, CLUSTER)).isEqualTo(new byte[CLUSTER]);
            assertThat(read(reopened, 6 * CLUSTER, CLUSTER)).isEqualTo(pattern(CLUSTER, 6));
            assertThat(reopened.extents(TABLE_SPAN, (DELTA_CAPACITY + 8L) * CLUSTER))
                    .singleElement().satisfies(extent -> assertThat(extent.type()).isEqualTo(ExtentType.ZERO));
        }
    }

    private static boolean tryFlush(ThinImage image) throws IOException {
        try {
            image.flush();
            return true;
        } catch (NoSpaceException refused) {
            return false;
        }
    }

    /**
     * The first checkpoint writes a table full of entries (every chunk), the second a table with
     * one entry; the second table on disk holds that entry and zeroes, not the first table's
     * entries left in the (pooled, reused) buffer.
     */
    @Test
    void aCheckpointWritesEachTableWithoutTheEntriesOfATableWrittenBefore() throws IOException {
        CrashableMemoryFile file = fresh();
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            image.writeZeroes(0, TABLE_SPAN, ZeroMode.NO_HOLE, false);
            image.flush();
            assertThat(header(file).deltaEntries()).as("512 changes: a checkpoint").isZero();
            image.write(TABLE_SPAN + 300L * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 1)), false);
        }
        ImageHeader header = header(file);
        ByteBuffer l1 = ByteBuffer.allocate(header.l1Entries() * 16);
        file.readFully(l1, header.l1Offset());
        ByteBuffer second = ByteBuffer.allocate(CLUSTER);
        file.readFully(second, l1.getLong(16));
        for (int i = 0; i < CLUSTER / 8; i++) {
            if (i != 300) {
                assertThat(second.getLong(i * 8)).as("entry %d of the second table", i).isZero();
            }
        }
        assertThat(MapEntry.type(second.getLong(300 * 8))).isEqualTo(MapEntry.DATA);
    }
}
