package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.AllocationListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Truncated, corrupt and foreign files: clear errors, nothing written; check and repair. */
class ImageCorruptionTest {

    private static final int CLUSTER = 4096;
    private static final long SIZE = 1024 * 1024;

    @TempDir
    Path dir;

    private static byte[] pattern(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** An image with clusters 0..3 written (cluster i holds pattern(CLUSTER, i)), closed cleanly. */
    private static CrashableMemoryFile imageWithData(boolean compress) throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, compress);
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            for (int i = 0; i < 4; i++) {
                byte[] data = compress ? new byte[CLUSTER] : pattern(CLUSTER, i);
                Arrays.fill(data, 0, 10, (byte) (i + 1));
                image.write((long) i * CLUSTER, ByteBuffer.wrap(data), false);
            }
        }
        return file;
    }

    private static byte[] readCluster(CrashableMemoryFile file, long cluster) throws IOException {
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            ByteBuffer buffer = ByteBuffer.allocate(CLUSTER);
            image.read(cluster * CLUSTER, buffer);
            return buffer.array();
        }
    }

    private static void assertOpenFails(CrashableMemoryFile file, long offset, String what) {
        byte[] before = file.contents();
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class)
                .hasMessageContaining("memory-image")
                .hasMessageContaining("offset " + offset)
                .hasMessageContaining(what)
                .satisfies(e -> assertThat(((CorruptImageException) e).offset()).isEqualTo(offset));
        assertThat(file.contents()).as("a failed open writes nothing").isEqualTo(before);
    }

    @Test
    void foreignAndEmptyFilesAreRefusedWithTheirName() throws IOException {
        Path foreign = dir.resolve("foreign.raw");
        byte[] bytes = "just some raw disk bytes, not an image".getBytes(StandardCharsets.US_ASCII);
        Files.write(foreign, bytes);
        assertThatThrownBy(() -> ThinImage.open(foreign, false, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class)
                .hasMessageContaining(foreign.toString()).hasMessageContaining("offset 0")
                .hasMessageContaining("no TIDEMARK magic");
        assertThat(Files.readAllBytes(foreign)).isEqualTo(bytes);
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> ThinImage.open(empty, true, AllocationListener.NONE))
                .hasMessageContaining(empty.toString()).hasMessageContaining("too short");
        assertThat(Files.size(empty)).isZero();
        assertThat(ImageChecker.check(foreign).exitCode()).isEqualTo(CheckResult.EXIT_CORRUPT);
    }

    @Test
    void aCorruptImageFileIsLeftByteForByteAsItWas() throws IOException {
        Path path = dir.resolve("corrupt.tdm");
        try (ThinImage image = ThinImage.create(path, SIZE, CLUSTER, false)) {
            image.write(0, ByteBuffer.wrap(pattern(3 * CLUSTER, 5)), false);
        }
        long l1Offset;
        try (ImageFile file = ChannelImageFile.open(path, true)) {
            l1Offset = ImageLoader.readHeader(file, file.size()).l1Offset();
        }
        byte[] bytes = Files.readAllBytes(path);
        bytes[(int) l1Offset + 5] ^= 1;
        Files.write(path, bytes);
        assertThatThrownBy(() -> ThinImage.open(path, false, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class).hasMessageContaining(path.toString())
                .hasMessageContaining("checksum mismatch");
        assertThat(ImageChecker.check(path).exitCode()).isEqualTo(CheckResult.EXIT_CORRUPT);
        assertThat(ImageChecker.repair(path).repairs()).singleElement().asString().startsWith("not repaired");
        assertThat(Files.readAllBytes(path)).isEqualTo(bytes);
    }

    @Test
    void truncatedImagesNameTheOffsetWhereDataIsMissing() throws IOException {
        CrashableMemoryFile file = imageWithData(false);
        long fullSize = file.size();
        file.setLength(fullSize - CLUSTER - CLUSTER / 2);
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .isInstanceOf(CorruptImageException.class).hasMessageContaining("past end of file");
        assertThat(file.size()).isEqualTo(fullSize - CLUSTER - CLUSTER / 2);
        file.setLength(3000);
        assertOpenFails(file, 3000, "file ends inside the header cluster");
        file.setLength(100);
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .hasMessageContaining("truncated");
    }

    @Test
    void badHeaderFieldsAreNamed() throws IOException {
        CrashableMemoryFile file = imageWithData(false);
        ImageHeader header = ImageLoader.readHeader(file, file.size());
        long slot = header.slotOffset();
        ImageSurgeon.pokeHeaderLong(file, ImageHeader.OFF_INCOMPATIBLE, 1L << 40);
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .hasMessageContaining("unknown incompatible features 0x10000000000");

        file.poke(slot, header.encode().array());
        ImageSurgeon.pokeHeaderInt(file, ImageHeader.OFF_VERSION, 2);
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .hasMessageContaining("unsupported format version 2");

        file.poke(slot, header.encode().array());
        ImageSurgeon.pokeHeaderInt(file, ImageHeader.OFF_CLUSTER_BITS, 30);
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .hasMessageContaining("cluster bits 30");
    }

    @Test
    void aTornCurrentHeaderFallsBackToTheOtherSlotAndTwoBadSlotsFail() throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, false);
        ThinImage.open(file, false, AllocationListener.NONE).close();
        // Nothing was written: generation 1 in slot 0 is the current header and slot 1 is empty.
        file.poke(ImageHeader.OFF_GENERATION, new byte[] {0, 0, 0, 0, 0, 0, 0, 9});
        assertOpenFails(file, ImageHeader.OFF_CHECKSUM, "header checksum mismatch");
    }

    @Test
    void tableChecksumsCatchFlippedBits() throws IOException {
        CrashableMemoryFile file = imageWithData(false);
        ImageHeader header = ImageLoader.readHeader(file, file.size());
        byte[] one = new byte[1];
        file.readFully(ByteBuffer.wrap(one), header.l1Offset() + 3);
        file.poke(header.l1Offset() + 3, new byte[] {(byte) (one[0] ^ 0x10)});
        assertOpenFails(file, header.l1Offset(), "L1 table checksum mismatch");
        file.poke(header.l1Offset() + 3, one);

        ByteBuffer l1 = ByteBuffer.allocate(16);
        file.readFully(l1, header.l1Offset());
        long l2Offset = l1.getLong(0);
        file.poke(l2Offset + 100, new byte[] {42});
        assertOpenFails(file, l2Offset, "L2 table (L1 entry 0) checksum mismatch");
        CheckResult check = ImageChecker.check(file);
        assertThat(check.exitCode()).isEqualTo(CheckResult.EXIT_CORRUPT);
        assertThat(check.corruptions()).singleElement().satisfies(p -> assertThat(p.offset()).isEqualTo(l2Offset));
        byte[] before = file.contents();
        assertThat(ImageChecker.repair(file)).singleElement().asString().startsWith("not repaired");
        assertThat(file.contents()).isEqualTo(before);
    }

    @Test
    void entriesPastTheEndAreCorruptAndRepairDropsThem() throws IOException {
        CrashableMemoryFile file = imageWithData(false);
        long past = MapEntry.data(ImageFormat.alignUp(file.size(), CLUSTER) + 10L * CLUSTER);
        ImageSurgeon.setEntry(file, 1, past);
        long entryOffset = entryOffset(file, 1);
        assertOpenFails(file, entryOffset, "ends past end of file");
        CheckResult check = ImageChecker.check(file);
        assertThat(check.exitCode()).isEqualTo(CheckResult.EXIT_CORRUPT);
        assertThat(check.corruptions()).singleElement().asString().contains("guest offset " + CLUSTER);

        assertThat(ImageChecker.repair(file)).anySatisfy(r -> assertThat(r).startsWith("dropped entry"));
        assertThat(ImageChecker.check(file).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
        assertThat(readCluster(file, 1)).containsOnly(0);
        assertThat(readCluster(file, 2)).startsWith(3, 3, 3);
    }

    private static long entryOffset(CrashableMemoryFile file, long cluster) throws IOException {
        ImageHeader header = ImageLoader.readHeader(file, file.size());
        ByteBuffer l1 = ByteBuffer.allocate(16);
        file.readFully(l1, header.l1Offset());
        return l1.getLong(0) + cluster * 8;
    }

    @Test
    void misalignedAndReservedBitEntriesAreCorrupt() throws IOException {
        CrashableMemoryFile file = imageWithData(false);
        long good = ImageSurgeon.entry(file, 2);
        ImageSurgeon.setEntry(file, 2, good + 512);
        assertOpenFails(file, entryOffset(file, 2), "not cluster aligned");
        ImageSurgeon.setEntry(file, 2, good | (1L << 57));
        assertOpenFails(file, entryOffset(file, 2), "reserved bits set");
        ImageSurgeon.setEntry(file, 2, good);
        assertThat(ImageChecker.check(file).isClean()).isTrue();
    }

    @Test
    void sharedClustersAreCorruptAndRepairGivesEachAPrivateCopy() throws IOException {
        CrashableMemoryFile file = imageWithData(false);
        long second = ImageSurgeon.entry(file, 2);
        ImageSurgeon.setEntry(file, 3, second);
        assertThatThrownBy(() -> ThinImage.open(file, false, AllocationListener.NONE))
                .hasMessageContaining("referenced more than once").hasMessageContaining("offset " + MapEntry.offset(second));
        assertThat(ImageChecker.check(file).exitCode()).isEqualTo(CheckResult.EXIT_CORRUPT);
        byte[] expected = readClusterBypassingChecks(file, MapEntry.offset(second));

        assertThat(ImageChecker.repair(file)).filteredOn(r -> r.contains("private copy")).hasSize(2);
        assertThat(ImageChecker.check(file).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
        assertThat(readCluster(file, 2)).isEqualTo(expected);
        assertThat(readCluster(file, 3)).isEqualTo(expected);
        assertThat(MapEntry.offset(ImageSurgeon.entry(file, 2))).isNotEqualTo(MapEntry.offset(ImageSurgeon.entry(file, 3)));
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            image.write(2L * CLUSTER, ByteBuffer.wrap(new byte[] {7}), false);
            ByteBuffer other = ByteBuffer.allocate(1);
            image.read(3L * CLUSTER, other);
            assertThat(other.get(0)).as("writes to one copy do not show in the other").isEqualTo((byte) 3);
        }
    }

    private static byte[] readClusterBypassingChecks(CrashableMemoryFile file, long offset) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(CLUSTER);
        file.readFully(buffer, offset);
        return buffer.array();
    }

    @Test
    void badCompressedBlocksFailReadsAndRepairDropsThem() throws IOException {
        CrashableMemoryFile file = imageWithData(true);
        long entry = ImageSurgeon.entry(file, 1);
        assertThat(MapEntry.type(entry)).isEqualTo(MapEntry.COMPRESSED);
        file.poke(MapEntry.offset(entry), new byte[] {(byte) 0xF0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        try (ThinImage image = ThinImage.open(file, true, AllocationListener.NONE)) {
            assertThatThrownBy(() -> image.read(CLUSTER, ByteBuffer.allocate(10)))
                    .isInstanceOf(CorruptImageException.class).hasMessageContaining("does not decompress");
        }
        CheckResult check = ImageChecker.check(file);
        assertThat(check.exitCode()).isEqualTo(CheckResult.EXIT_CORRUPT);
        assertThat(check.corruptions()).singleElement().asString().contains("does not decompress");

        ImageSurgeon.setEntry(file, 2, MapEntry.compressed(MapEntry.offset(ImageSurgeon.entry(file, 2)), CLUSTER));
        assertThat(ImageChecker.check(file).corruptions()).anySatisfy(p -> assertThat(p.message())
                .contains("bad compressed length " + CLUSTER));
        ImageChecker.repair(file);
        assertThat(ImageChecker.check(file).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
        assertThat(readCluster(file, 1)).containsOnly(0);
        assertThat(readCluster(file, 3)).startsWith(4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0);
    }

    @Test
    void spaceLeakedByACrashIsReportedAndRepaired() throws IOException {
        CrashableMemoryFile file = imageWithData(false);
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        image.write(20L * CLUSTER, ByteBuffer.wrap(pattern(2 * CLUSTER, 9)), false);
        // No flush, no close: the process dies with two appended clusters the map never referenced.
        CrashableMemoryFile crashed = file.afterCrash(CrashableMemoryFile.Survival.ALL, new Random(1));
        CheckResult check = ImageChecker.check(crashed);
        assertThat(check.exitCode()).isEqualTo(CheckResult.EXIT_LEAKS);
        assertThat(check.leakedBytes()).isGreaterThanOrEqualTo(2L * CLUSTER);
        assertThat(check.leaks()).allSatisfy(p -> assertThat(p.offset()).isPositive());

        long before = crashed.size();
        assertThat(ImageChecker.repair(crashed)).anySatisfy(r -> assertThat(r).startsWith("reclaimed"));
        CheckResult after = ImageChecker.check(crashed);
        assertThat(after.exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
        assertThat(crashed.size()).isLessThan(before);
        assertThat(readCluster(crashed, 3)).startsWith(4, 4, 4);
        assertThat(readCluster(crashed, 20)).containsOnly(0);
    }

    @Test
    void checkAndRepairWorkOnFilesAndReportForTheCli() throws IOException {
        Path path = dir.resolve("disk.tdm");
        try (ThinImage image = ThinImage.create(path, SIZE, CLUSTER, false)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1)), false);
        }
        CheckResult clean = ImageChecker.check(path);
        assertThat(clean.exitCode()).isZero();
        assertThat(clean.repairs()).isEmpty();
        Files.write(path, new byte[5 * CLUSTER], java.nio.file.StandardOpenOption.APPEND);
        CheckResult tail = ImageChecker.check(path);
        assertThat(tail.exitCode()).isEqualTo(CheckResult.EXIT_LEAKS);
        assertThat(tail.leaks()).singleElement().satisfies(p -> assertThat(p.length()).isEqualTo(5L * CLUSTER));
        CheckResult repaired = ImageChecker.repair(path);
        assertThat(repaired.exitCode()).isZero();
        assertThat(repaired.repairs()).isNotEmpty();
    }
}
