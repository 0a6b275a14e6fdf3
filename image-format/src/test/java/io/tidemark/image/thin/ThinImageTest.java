package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ImageFiles;
import io.tidemark.image.hostfile.HostFile;
import io.tidemark.image.NoSpaceException;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThinImageTest {

    private static final int CLUSTER = 64 * 1024;
    private static final long SIZE = 64L * 1024 * 1024;

    @TempDir
    Path dir;

    private Path path() {
        return dir.resolve("disk.tdm");
    }

    static byte[] pattern(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] read(ThinImage image, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        image.read(offset, buffer);
        assertThat(buffer.hasRemaining()).isFalse();
        return buffer.array();
    }

    @Test
    void createWritesMagicAndAnEmptyCleanImage() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            assertThat(image.size()).isEqualTo(SIZE);
            assertThat(image.capabilities().preferredBlockSize()).isEqualTo(CLUSTER);
            assertThat(image.extents(0, SIZE)).containsExactly(new Extent(0, SIZE, ExtentType.HOLE));
            assertThat(read(image, SIZE - 4096, 4096)).containsOnly(0);
        }
        byte[] head = Arrays.copyOf(Files.readAllBytes(path()), 8);
        assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("TIDEMARK");
        ImageInfo info;
        try (ThinImage image = ThinImage.open(path(), true, AllocationListener.NONE)) {
            info = image.info();
        }
        assertThat(info.clean()).isTrue();
        assertThat(info.virtualSize()).isEqualTo(SIZE);
        assertThat(info.clusterSize()).isEqualTo(CLUSTER);
        assertThat(info.allocatedBytes()).isZero();
        assertThat(ImageChecker.check(path()).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
    }

    @Test
    void infoCountsAsMetadataOnlyTheTablesTheFileHolds() throws IOException {
        long empty;
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            empty = image.info().metadataBytes();
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 3)), false);
            assertThat(image.info().dataClusters()).isEqualTo(1);
            assertThat(image.info().metadataBytes()).as("a table only in memory").isEqualTo(empty);
        }
        try (ThinImage image = ThinImage.open(path(), true, AllocationListener.NONE)) {
            assertThat(image.info().metadataBytes()).as("the table close wrote").isEqualTo(empty + CLUSTER);
        }
    }

    @Test
    void createRefusesBadArgumentsAndExistingFiles() throws IOException {
        assertThatThrownBy(() -> ThinImage.create(path(), SIZE, 3000, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cluster size 3000");
        assertThatThrownBy(() -> ThinImage.create(path(), SIZE, 1024, false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ThinImage.create(path(), 1L << 60, CLUSTER, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("virtual size");
        ThinImage.create(path(), SIZE, CLUSTER, false).close();
        assertThatThrownBy(() -> ThinImage.create(path(), SIZE, CLUSTER, false)).isInstanceOf(IOException.class);
    }

    @Test
    void supportsPetabyteVirtualSizes() throws IOException {
        long size = 1L << 50;
        try (ThinImage image = ThinImage.create(path(), size, CLUSTER, false)) {
            byte[] data = pattern(4096, 1);
            image.write(size - 4096, ByteBuffer.wrap(data), false);
            assertThat(read(image, size - 4096, 4096)).isEqualTo(data);
            assertThat(image.extents(0, size)).hasSize(2).last()
                    .isEqualTo(new Extent(size - CLUSTER, CLUSTER, ExtentType.DATA));
        }
        try (ThinImage image = ThinImage.open(path(), true, AllocationListener.NONE)) {
            assertThat(read(image, size - 4096, 4096)).isEqualTo(pattern(4096, 1));
        }
    }

    @Test
    void partialFirstWriteIsZeroFilledAndAppendedAtTheEnd() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            long before = image.usage();
            byte[] data = pattern(1000, 2);
            image.write(5 * CLUSTER + 100, ByteBuffer.wrap(data), false);
            assertThat(image.usage()).isEqualTo(before + CLUSTER);
            byte[] cluster = read(image, 5 * CLUSTER, CLUSTER);
            assertThat(Arrays.copyOfRange(cluster, 100, 1100)).isEqualTo(data);
            assertThat(Arrays.copyOfRange(cluster, 0, 100)).containsOnly(0);
            assertThat(Arrays.copyOfRange(cluster, 1100, CLUSTER)).containsOnly(0);
            image.write(5 * CLUSTER + 5000, ByteBuffer.wrap(data), false);
            assertThat(image.usage()).as("overwrite in place").isEqualTo(before + CLUSTER);
        }
    }

    @Test
    void writesSpanningClustersReadBackAfterReopen() throws IOException {
        byte[] data = pattern(3 * CLUSTER + 12345, 3);
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            image.write(CLUSTER - 77, ByteBuffer.wrap(data), false);
        }
        try (ThinImage image = ThinImage.open(path(), false, AllocationListener.NONE)) {
            assertThat(read(image, CLUSTER - 77, data.length)).isEqualTo(data);
            assertThat(image.extents(0, 8L * CLUSTER)).containsExactly(
                    new Extent(0, 5L * CLUSTER, ExtentType.DATA), new Extent(5L * CLUSTER, 3L * CLUSTER, ExtentType.HOLE));
        }
    }

    @Test
    void extentsMergeRunsOfHoleZeroAndData() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            image.write(0, ByteBuffer.wrap(pattern(2 * CLUSTER, 4)), false);
            image.writeZeroes(2L * CLUSTER, 2L * CLUSTER, ZeroMode.NO_HOLE, false);
            image.write(10L * CLUSTER, ByteBuffer.wrap(pattern(10, 5)), false);
            assertThat(image.extents(0, SIZE)).containsExactly(
                    new Extent(0, 2L * CLUSTER, ExtentType.DATA),
                    new Extent(2L * CLUSTER, 2L * CLUSTER, ExtentType.ZERO),
                    new Extent(4L * CLUSTER, 6L * CLUSTER, ExtentType.HOLE),
                    new Extent(10L * CLUSTER, CLUSTER, ExtentType.DATA),
                    new Extent(11L * CLUSTER, SIZE - 11L * CLUSTER, ExtentType.HOLE));
            assertThat(image.extents(100, 50)).containsExactly(new Extent(100, 50, ExtentType.DATA));
        }
    }

    @Test
    void zeroWithoutHoleKeepsTheClusterAndTheNextWriteReusesIt() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 6)), false);
            long usage = image.usage();
            image.writeZeroes(0, CLUSTER, ZeroMode.NO_HOLE, false);
            assertThat(read(image, 0, CLUSTER)).containsOnly(0);
            assertThat(image.extents(0, CLUSTER)).containsExactly(new Extent(0, CLUSTER, ExtentType.ZERO));
            image.write(10, ByteBuffer.wrap(new byte[] {7}), false);
            assertThat(image.usage()).isEqualTo(usage);
            byte[] back = read(image, 0, CLUSTER);
            assertThat(back[10]).isEqualTo((byte) 7);
            back[10] = 0;
            assertThat(back).as("the rest of the kept cluster reads zero, not old data").containsOnly(0);
        }
    }

    @Test
    void zeroingAcrossTablesNeverCreatedStillReachesTheDataBeyondThem() throws IOException {
        long table = (CLUSTER / 8L) * CLUSTER; // the guest bytes one L2 table maps
        long size = 4 * table;
        try (ThinImage image = ThinImage.create(path(), size, CLUSTER, false)) {
            long data = 2 * table + 5L * CLUSTER;
            image.write(data, ByteBuffer.wrap(pattern(3 * CLUSTER, 8)), false);
            image.writeZeroes(100, data + CLUSTER - 100, ZeroMode.MAY_TRIM, false);
            image.trim(data + 2L * CLUSTER, size - data - 2L * CLUSTER, false);
            assertThat(image.extents(0, size)).containsExactly(
                    new Extent(0, data + CLUSTER, ExtentType.HOLE),
                    new Extent(data + CLUSTER, CLUSTER, ExtentType.DATA),
                    new Extent(data + 2L * CLUSTER, size - data - 2L * CLUSTER, ExtentType.HOLE));
            image.writeZeroes(0, 2L * CLUSTER, ZeroMode.NO_HOLE, false);
            assertThat(image.extents(0, 3L * CLUSTER)).as("without trim, unallocated clusters become zero clusters")
                    .containsExactly(new Extent(0, 2L * CLUSTER, ExtentType.ZERO),
                            new Extent(2L * CLUSTER, CLUSTER, ExtentType.HOLE));
        }
    }

    @Test
    void partialZeroingWritesZeroesIntoData() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            byte[] data = pattern(CLUSTER, 7);
            image.write(0, ByteBuffer.wrap(data), false);
            image.writeZeroes(100, 200, new ZeroMode(true, true), false);
            Arrays.fill(data, 100, 300, (byte) 0);
            assertThat(read(image, 0, CLUSTER)).isEqualTo(data);
            image.trim(CLUSTER - 10, 10, false);
            Arrays.fill(data, CLUSTER - 10, CLUSTER, (byte) 0);
            assertThat(read(image, 0, CLUSTER)).isEqualTo(data);
        }
    }

    @Test
    void trimmedClustersAreReusedOnlyAfterAFlush() throws IOException {
        ThinImage.create(path(), SIZE, CLUSTER, false).close();
        List<Long> allocated = new ArrayList<>();
        // One report may cover several consecutive clusters: record each cluster.
        AllocationListener clusters = (offset, length, usage) -> {
            for (long at = offset; at < offset + length; at += CLUSTER) {
                allocated.add(at);
            }
        };
        try (ThinImage image = ThinImage.open(path(), false, clusters)) {
            image.write(0, ByteBuffer.wrap(pattern(4 * CLUSTER, 8)), false);
            List<Long> trimmed = List.copyOf(allocated.subList(0, 2));
            image.flush();
            image.trim(0, 2L * CLUSTER, false);
            assertThat(image.extents(0, 2L * CLUSTER)).containsExactly(new Extent(0, 2L * CLUSTER, ExtentType.HOLE));
            allocated.clear();
            for (int i = 0; i < 4; i++) {
                image.write((20L + i) * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 9)), false);
            }
            assertThat(allocated).as("freed space not reused before the free is durable").doesNotContainAnyElementsOf(trimmed);
            image.flush();
            allocated.clear();
            for (int i = 0; i < 8; i++) {
                image.write((30L + i) * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 10 + i)), false);
            }
            assertThat(allocated).as("freed clusters reused after the flush").containsAll(trimmed);
            assertThat(read(image, 30L * CLUSTER, CLUSTER)).isEqualTo(pattern(CLUSTER, 10));
            assertThat(read(image, 2L * CLUSTER, CLUSTER)).isEqualTo(Arrays.copyOfRange(pattern(4 * CLUSTER, 8),
                    2 * CLUSTER, 3 * CLUSTER));
        }
        assertThat(ImageChecker.check(path()).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
    }

    @Test
    void trimmedClustersArePunchedOutOfTheHostFileAfterTheFreeIsDurable() throws IOException {
        ThinImage.create(path(), SIZE, CLUSTER, false).close();
        try (ThinImage image = ThinImage.open(path(), false, AllocationListener.NONE)) {
            image.write(0, ByteBuffer.wrap(pattern(8 * CLUSTER, 20)), true);
            long trimmed = image.fileOffset(2L * CLUSTER);
            try (HostFile host = HostFile.open(path(), false)) {
                assertThat(host.capabilities().seekData()).as("this test needs SEEK_HOLE").isTrue();
                assertThat(host.nextHole(trimmed)).isGreaterThan(trimmed);
                image.trim(2L * CLUSTER, CLUSTER, false);
                assertThat(host.nextHole(trimmed)).as("not punched before the free is durable").isGreaterThan(trimmed);
                image.flush();
                assertThat(host.nextHole(trimmed)).as("punched after the flush").isEqualTo(trimmed);
                assertThat(host.nextData(trimmed)).isEqualTo(trimmed + CLUSTER);
            }
        }
    }

    @Test
    void freeSpaceIsDerivedOnOpenAndCloseTruncatesTheTail() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            image.write(0, ByteBuffer.wrap(pattern(8 * CLUSTER, 12)), false);
            image.trim(0, 4L * CLUSTER, false);
            image.trim(6L * CLUSTER, 2L * CLUSTER, false);
        }
        long fileSize = Files.size(path());
        try (ThinImage image = ThinImage.open(path(), false, AllocationListener.NONE)) {
            assertThat(image.usage()).isEqualTo(fileSize);
            image.write(40L * CLUSTER, ByteBuffer.wrap(pattern(4 * CLUSTER, 13)), false);
            assertThat(image.usage()).as("reuses the four trimmed clusters").isEqualTo(fileSize);
            assertThat(read(image, 4L * CLUSTER, 2 * CLUSTER))
                    .isEqualTo(Arrays.copyOfRange(pattern(8 * CLUSTER, 12), 4 * CLUSTER, 6 * CLUSTER));
        }
    }

    @Test
    void listenerReservesBeforeGrowthAndHearsAllocationsAfter() throws IOException {
        ThinImage.create(path(), SIZE, CLUSTER, false).close();
        List<String> events = new ArrayList<>();
        AllocationListener listener = new AllocationListener() {
            @Override
            public void reserve(long newUsage) {
                events.add("reserve " + newUsage);
            }

            @Override
            public void allocated(long offset, long length, long usage) {
                events.add("allocated " + offset + "+" + length + " usage " + usage);
            }
        };
        try (ThinImage image = ThinImage.open(path(), false, listener)) {
            long start = image.usage();
            image.write(0, ByteBuffer.wrap(new byte[512]), false);
            assertThat(events).contains("reserve " + (start + CLUSTER),
                    "allocated " + start + "+" + CLUSTER + " usage " + (start + CLUSTER));
            assertThat(events.indexOf("reserve " + (start + CLUSTER)))
                    .isLessThan(events.indexOf("allocated " + start + "+" + CLUSTER + " usage " + (start + CLUSTER)));
            events.clear();
            image.write(0, ByteBuffer.wrap(new byte[512]), false);
            assertThat(events).as("overwrites allocate nothing").isEmpty();
        }
    }

    @Test
    void refusedReservationFailsTheWriteAndLeavesTheImageUnchanged() throws IOException {
        ThinImage.create(path(), SIZE, CLUSTER, false).close();
        AllocationListener quota = new AllocationListener() {
            @Override
            public void reserve(long newUsage) throws NoSpaceException {
                throw new NoSpaceException("quota exceeded at " + newUsage);
            }

            @Override
            public void allocated(long offset, long length, long usage) {
            }
        };
        try (ThinImage image = ThinImage.open(path(), false, quota)) {
            long usage = image.usage();
            assertThatThrownBy(() -> image.write(0, ByteBuffer.wrap(pattern(3 * CLUSTER, 1)), false))
                    .isInstanceOf(NoSpaceException.class);
            assertThatThrownBy(() -> image.write(5L * CLUSTER + 7, ByteBuffer.wrap(pattern(512, 2)), false))
                    .as("a write into one new cluster").isInstanceOf(NoSpaceException.class);
            assertThat(image.usage()).isEqualTo(usage);
            assertThat(image.extents(0, SIZE)).containsExactly(new Extent(0, SIZE, ExtentType.HOLE));
            image.writeZeroes(0, CLUSTER, ZeroMode.NO_HOLE, false);
            image.flush();
        }
        assertThat(ImageChecker.check(path()).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
    }

    @Test
    void dirtyFlagIsSetDurablyBeforeTheFirstWriteAndClearedOnClose() throws IOException {
        // In memory: reading the header through a second descriptor would drop the process's lock.
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, false);
        try (ThinImage image = ThinImage.open(file, false, AllocationListener.NONE)) {
            assertThat(ImageLoader.readHeader(file, file.size()).dirty()).isFalse();
            image.write(0, ByteBuffer.wrap(new byte[10]), false);
            CrashableMemoryFile durable = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(0));
            assertThat(ImageLoader.readHeader(durable, durable.size()).dirty()).isTrue();
            assertThat(image.info().clean()).isFalse();
        }
        CrashableMemoryFile durable = file.afterCrash(CrashableMemoryFile.Survival.NONE, new Random(0));
        assertThat(ImageLoader.readHeader(durable, durable.size()).dirty()).isFalse();
    }

    @Test
    void writersLockOthersOutAndReadersShare() throws IOException {
        ThinImage.create(path(), SIZE, CLUSTER, false).close();
        try (ThinImage writer = ThinImage.open(path(), false, AllocationListener.NONE)) {
            assertThat(ImageFiles.kindOf(path())).isEqualTo(ImageFiles.Kind.THIN);
            assertThat(lockedByAnotherProcess()).as("probing the magic keeps the lock").isTrue();
            assertThatThrownBy(() -> ImageChecker.check(path())).isInstanceOf(ImageLockedException.class);
            assertThat(lockedByAnotherProcess()).as("a refused open keeps the lock").isTrue();
            assertThatThrownBy(() -> ThinImage.open(path(), false, AllocationListener.NONE))
                    .isInstanceOf(ImageLockedException.class).hasMessageContaining(path().toString())
                    .hasMessageContaining("locked");
            assertThatThrownBy(() -> ThinImage.open(path(), true, AllocationListener.NONE))
                    .isInstanceOf(ImageLockedException.class);
            assertThat(writer.size()).isEqualTo(SIZE);
        }
        try (ThinImage reader = ThinImage.open(path(), true, AllocationListener.NONE)) {
            try (ThinImage second = ThinImage.open(path(), true, AllocationListener.NONE)) {
                assertThat(second.capabilities().readOnly()).isTrue();
                assertThatThrownBy(() -> second.write(0, ByteBuffer.allocate(1), false))
                        .hasMessageContaining("read-only");
            }
            assertThat(reader.size()).isEqualTo(SIZE);
        }
    }

    /** Asks a separate process whether it could take the image's lock. */
    private boolean lockedByAnotherProcess() throws IOException {
        String probe = "import fcntl,sys\nf=open(sys.argv[1],'r+')\n"
                + "try:\n  fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
                + "except OSError: print('locked')\n";
        Process process = new ProcessBuilder("python3", "-c", probe, path().toString()).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertThat(out).isIn("free", "locked");
        return out.equals("locked");
    }

    @Test
    void compressedImageStoresCompressibleFullClustersCompressed() throws IOException {
        byte[] text = new byte[CLUSTER];
        for (int i = 0; i < CLUSTER; i++) {
            text[i] = (byte) "tidemark ".charAt(i % 9);
        }
        byte[] noise = pattern(CLUSTER, 14);
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, true)) {
            long start = image.usage();
            image.write(0, ByteBuffer.wrap(text), false);
            image.write(CLUSTER, ByteBuffer.wrap(noise), false);
            assertThat(image.usage() - start).isLessThanOrEqualTo(2L * CLUSTER);
            ImageInfo info = image.info();
            assertThat(info.compressedBytes()).isLessThan(CLUSTER / 10);
            assertThat(info.compressedClusters()).isEqualTo(1);
            assertThat(info.dataClusters()).isEqualTo(1);
            assertThat(info.compressionRatio()).isGreaterThan(10);
            assertThat(read(image, 0, CLUSTER)).isEqualTo(text);
            assertThat(read(image, CLUSTER, CLUSTER)).isEqualTo(noise);
            // A partial write into the compressed cluster merges and moves it, uncompressed.
            image.write(50, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
            text[50] = 1;
            text[51] = 2;
            text[52] = 3;
            assertThat(read(image, 0, CLUSTER)).isEqualTo(text);
            assertThat(image.info().compressedClusters()).isZero();
        }
        try (ThinImage image = ThinImage.open(path(), true, AllocationListener.NONE)) {
            assertThat(read(image, 0, CLUSTER)).isEqualTo(text);
            assertThat(image.info().compressWrites()).isTrue();
        }
        assertThat(ImageChecker.check(path()).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
    }

    @Test
    void resizeGrowsAndKeepsData() throws IOException {
        byte[] data = pattern(CLUSTER, 15);
        try (ThinImage image = ThinImage.create(path(), 3 * CLUSTER + 512, CLUSTER, false)) {
            image.write(2L * CLUSTER, ByteBuffer.wrap(data), false);
            image.write(3L * CLUSTER, ByteBuffer.wrap(new byte[] {9, 9}), false);
            image.resize(1L << 40);
            assertThat(image.size()).isEqualTo(1L << 40);
            assertThat(read(image, 3L * CLUSTER, CLUSTER)).startsWith(9, 9, 0, 0);
            assertThatThrownBy(() -> image.resize(CLUSTER)).isInstanceOf(IllegalArgumentException.class);
        }
        try (ThinImage image = ThinImage.open(path(), false, AllocationListener.NONE)) {
            assertThat(image.size()).isEqualTo(1L << 40);
            assertThat(read(image, 2L * CLUSTER, CLUSTER)).isEqualTo(data);
            image.write((1L << 40) - 1, ByteBuffer.wrap(new byte[] {5}), false);
            assertThat(read(image, (1L << 40) - 1, 1)).containsExactly(5);
        }
        assertThat(ImageChecker.check(path()).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
    }

    @Test
    void rejectsRangesOutsideTheDevice() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            assertThatThrownBy(() -> image.read(SIZE - 1, ByteBuffer.allocate(2)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> image.trim(-1, 1, false)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void compactMovesClustersDownAndShrinksTheFile() throws IOException {
        try (ThinImage image = ThinImage.create(path(), SIZE, CLUSTER, false)) {
            for (int i = 0; i < 40; i++) {
                image.write((long) i * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 100 + i)), false);
            }
            image.trim(0, 30L * CLUSTER, false);
        }
        long before = Files.size(path());
        List<Long> progress = new ArrayList<>();
        ImageCompactor.Result result = ImageCompactor.compact(path(), (done, total) -> progress.add(done));
        assertThat(result.fileSizeBefore()).isEqualTo(before);
        assertThat(result.fileSizeAfter()).isEqualTo(Files.size(path())).isLessThanOrEqualTo(before - 25L * CLUSTER);
        assertThat(result.movedClusters()).isPositive();
        assertThat(progress).isNotEmpty();
        assertThat(ImageChecker.check(path()).exitCode()).isEqualTo(CheckResult.EXIT_CLEAN);
        try (ThinImage image = ThinImage.open(path(), true, AllocationListener.NONE)) {
            for (int i = 30; i < 40; i++) {
                assertThat(read(image, (long) i * CLUSTER, CLUSTER)).isEqualTo(pattern(CLUSTER, 100 + i));
            }
            assertThat(read(image, 0, CLUSTER)).containsOnly(0);
        }
    }
}
