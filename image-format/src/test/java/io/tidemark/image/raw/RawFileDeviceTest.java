package io.tidemark.image.raw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.FastZeroUnsupportedException;
import io.tidemark.image.FileSegment;
import io.tidemark.image.NoSpaceException;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawFileDeviceTest {

    private static final int K = 1024;
    private static final int SIZE = 1 << 20;

    @TempDir
    Path dir;

    private Path file(int size) throws IOException {
        return Files.write(dir.resolve("disk.raw"), new byte[size]);
    }

    private static byte[] read(RawFileDevice device, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        device.read(offset, buf);
        assertThat(buf.hasRemaining()).isFalse();
        return buf.array();
    }

    /** Reads into a direct buffer, as the server does: through pread instead of the FileChannel. */
    private static byte[] readDirect(RawFileDevice device, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(length);
        device.read(offset, buf);
        assertThat(buf.hasRemaining()).isFalse();
        byte[] bytes = new byte[length];
        buf.flip().get(bytes);
        return bytes;
    }

    /**
     * Bytes just written sit in the page cache, so a non-blocking read gets them (preadv2 with
     * RWF_NOWAIT, which ext4 on recent kernels serves from the page cache).
     */
    @Test
    void readIfCachedGetsWhatThePageCacheHolds() throws IOException {
        byte[] data = new byte[SIZE];
        new Random(5).nextBytes(data);
        Path path = Files.write(dir.resolve("disk.raw"), data);
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            ByteBuffer direct = ByteBuffer.allocateDirect(4 * K + 8).position(8);
            assertThat(device.readIfCached(777, direct)).isTrue();
            assertThat(direct.position()).isEqualTo(4 * K + 8);
            byte[] bytes = new byte[4 * K];
            direct.position(8).get(bytes);
            assertThat(bytes).isEqualTo(Arrays.copyOfRange(data, 777, 777 + 4 * K));

            ByteBuffer heap = ByteBuffer.allocate(512);
            assertThat(device.readIfCached(0, heap)).isFalse(); // no direct buffer: read() it is
            assertThat(heap.position()).isZero();
            assertThatThrownBy(() -> device.readIfCached(SIZE - 10, ByteBuffer.allocateDirect(11)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * Below the high-water mark a write needs nothing from the listener; above it the listener
     * is asked without waiting, and where it would wait (a quota with the pause policy) the write
     * is left to {@link RawFileDevice#write}.
     */
    @Test
    void writeIfQuickRaisesTheMarkOnlyWhenTheListenerNeedNotWait() throws IOException {
        Path path = dir.resolve("sparse.raw");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        List<Long> allocated = new ArrayList<>();
        boolean[] wouldWait = {false};
        AllocationListener listener = new AllocationListener() {
            @Override
            public void reserve(long newUsage) {
                throw new AssertionError("reserve may wait: not on the quick path");
            }

            @Override
            public boolean tryReserve(long newUsage) {
                return !wouldWait[0];
            }

            @Override
            public void allocated(long offset, long length, long usage) {
                allocated.add(usage);
            }
        };
        byte[] head = pattern(3 * K, 1);
        byte[] tail = pattern(5 * K, 2);
        try (RawFileDevice device = RawFileDevice.open(path, false, listener)) {
            ByteBuffer first = ByteBuffer.allocateDirect(head.length).put(head).flip();
            ByteBuffer second = ByteBuffer.allocateDirect(tail.length).put(tail).flip();
            assertThat(device.writeIfQuick(1000, first, second)).isTrue();
            assertThat(first.hasRemaining() || second.hasRemaining()).isFalse();
            assertThat(read(device, 1000, head.length)).isEqualTo(head);
            assertThat(read(device, 1000 + head.length, tail.length)).isEqualTo(tail);
            assertThat(allocated).containsExactly(1000L + head.length + tail.length);
            assertThat(device.usage()).isEqualTo(1000L + head.length + tail.length);

            wouldWait[0] = true;
            ByteBuffer beyond = ByteBuffer.allocateDirect(K);
            assertThat(device.writeIfQuick(SIZE / 2, beyond)).as("raises the mark: the listener would wait").isFalse();
            assertThat(beyond.position()).isZero();
            assertThat(device.writeIfQuick(0, ByteBuffer.wrap(pattern(K, 3)))).as("below the mark").isTrue();
            assertThat(read(device, 0, K)).isEqualTo(pattern(K, 3));
            assertThat(allocated).hasSize(1);
        }
        try (RawFileDevice readOnly = RawFileDevice.open(path, true)) {
            assertThat(readOnly.writeIfQuick(0, ByteBuffer.allocateDirect(K))).isFalse();
        }
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void everyRangeIsAFileSegmentAtTheSameOffset() throws IOException {
        byte[] data = new byte[SIZE];
        new Random(3).nextBytes(data);
        Path path = Files.write(dir.resolve("disk.raw"), data);
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            FileSegment whole = device.contiguousData(0, SIZE).orElseThrow();
            assertThat(whole.position()).isZero();
            assertThat(whole.length()).isEqualTo(SIZE);
            FileSegment part = device.contiguousData(12345, 100 * K).orElseThrow();
            ByteBuffer buf = ByteBuffer.allocate(100 * K);
            while (buf.hasRemaining()) {
                assertThat(part.channel().read(buf, part.position() + buf.position())).isPositive();
            }
            assertThat(buf.array()).isEqualTo(Arrays.copyOfRange(data, 12345, 12345 + 100 * K));
            part.release();
            whole.release();
            assertThat(part.channel().isOpen()).isTrue();
            assertThatThrownBy(() -> device.contiguousData(SIZE - 10, 11)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void sizeIsTheFileSizeAndUsageTheSame() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(file(SIZE), false)) {
            assertThat(device.size()).isEqualTo(SIZE);
            assertThat(device.usage()).isEqualTo(SIZE);
            device.write(SIZE - 10, ByteBuffer.wrap(new byte[10]), true);
            assertThat(device.usage()).isEqualTo(SIZE);
        }
    }

    @Test
    void writesReadBackAndReachTheFile() throws IOException {
        Path path = file(SIZE);
        byte[] data = new byte[10_000];
        new Random(42).nextBytes(data);
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            device.write(12_345, ByteBuffer.wrap(data), false);
            device.flush();
            assertThat(read(device, 12_345, data.length)).isEqualTo(data);
        }
        byte[] onDisk = Files.readAllBytes(path);
        assertThat(Arrays.copyOfRange(onDisk, 12_345, 12_345 + data.length)).isEqualTo(data);
        assertThat(onDisk).hasSize(SIZE);
    }

    @Test
    void writeZeroesZeroesTheRange() throws IOException {
        Path path = file(SIZE);
        byte[] ones = new byte[300_000];
        Arrays.fill(ones, (byte) 1);
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            device.write(0, ByteBuffer.wrap(ones), false);
            device.writeZeroes(100, 250_000, ZeroMode.NO_HOLE, true);
            byte[] back = read(device, 0, ones.length);
            for (int i = 0; i < back.length; i++) {
                byte expected = i >= 100 && i < 250_100 ? (byte) 0 : (byte) 1;
                if (back[i] != expected) {
                    throw new AssertionError("byte " + i + " is " + back[i] + ", expected " + expected);
                }
            }
        }
    }

    @Test
    void readOnlyRefusesEveryChange() throws IOException {
        Path path = file(SIZE);
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            assertThat(device.capabilities().readOnly()).isTrue();
            assertThatThrownBy(() -> device.write(0, ByteBuffer.allocate(1), false))
                    .isInstanceOf(AccessDeniedException.class).hasMessageContaining("read-only");
            assertThatThrownBy(() -> device.trim(0, 512, false)).isInstanceOf(AccessDeniedException.class);
            assertThatThrownBy(() -> device.writeZeroes(0, 512, ZeroMode.MAY_TRIM, false))
                    .isInstanceOf(AccessDeniedException.class);
            device.flush();
            assertThat(read(device, 0, 16)).containsOnly(0);
        }
    }

    @Test
    void rangesOutsideTheDeviceAreRefusedWithTheOffset() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(file(SIZE), false)) {
            assertThatThrownBy(() -> device.read(SIZE - 1, ByteBuffer.allocate(2)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(String.valueOf(SIZE - 1));
            assertThatThrownBy(() -> device.write(-1, ByteBuffer.allocate(1), false))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> device.writeZeroes(Long.MAX_VALUE, 1, ZeroMode.NO_HOLE, false))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void missingFileFailsNamingIt() {
        Path missing = dir.resolve("nope.raw");
        assertThatThrownBy(() -> RawFileDevice.open(missing, false)).hasMessageContaining("nope.raw");
    }

    @Test
    void extentsFollowTheHolesOfASparseFile() throws IOException {
        Path path = dir.resolve("sparse.raw");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(SIZE);
            file.seek(256 * K);
            file.write(new byte[8 * K]);
        }
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            assertThat(device.capabilities().extents()).isTrue();
            assertThat(device.extents(0, SIZE)).containsExactly(
                    new Extent(0, 256 * K, ExtentType.HOLE),
                    new Extent(256 * K, 8 * K, ExtentType.DATA),
                    new Extent(264 * K, SIZE - 264 * K, ExtentType.HOLE));
            assertThat(device.extents(260 * K, 100 * K)).containsExactly(
                    new Extent(260 * K, 4 * K, ExtentType.DATA),
                    new Extent(264 * K, 96 * K, ExtentType.HOLE));
            assertThat(device.extents(10, 20)).containsExactly(new Extent(10, 20, ExtentType.HOLE));
            assertThat(device.extents(SIZE, 0)).isEmpty();
        }
    }

    @Test
    void trimPunchesAHole() throws IOException {
        Path path = dataFile();
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            assertThat(device.capabilities().trim()).isTrue();
            device.trim(64 * K, 128 * K, true);
            assertThat(device.extents(0, SIZE)).containsExactly(
                    new Extent(0, 64 * K, ExtentType.DATA),
                    new Extent(64 * K, 128 * K, ExtentType.HOLE),
                    new Extent(192 * K, SIZE - 192 * K, ExtentType.DATA));
            assertThat(read(device, 64 * K, 128 * K)).containsOnly(0);
            assertThat(read(device, 192 * K, 1)).containsOnly(1);
        }
    }

    @Test
    void unalignedTrimsAndZeroesPunchWholeBlocksAndZeroTheEdges() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(dataFile(), false)) {
            device.trim(1000, 10_000, false);
            device.writeZeroes(20 * K + 1, 3 * K, new ZeroMode(true, true), false);
            assertThat(device.extents(0, 32 * K)).containsExactly(
                    new Extent(0, 4 * K, ExtentType.DATA),
                    new Extent(4 * K, 4 * K, ExtentType.HOLE),
                    new Extent(8 * K, 24 * K, ExtentType.DATA));
            byte[] back = read(device, 0, 32 * K);
            for (int i = 0; i < back.length; i++) {
                boolean zeroed = (i >= 1000 && i < 11_000) || (i >= 20 * K + 1 && i < 23 * K + 1);
                if (back[i] != (zeroed ? 0 : 1)) {
                    throw new AssertionError("byte " + i + " is " + back[i]);
                }
            }
        }
    }

    @Test
    void zeroesThatMayTrimBecomeHolesAndFastZeroesWorkWithHoleSupport() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(dataFile(), false)) {
            assertThat(device.capabilities().fastZero()).isTrue();
            device.writeZeroes(0, 64 * K, new ZeroMode(true, true), false);
            assertThat(device.extents(0, 64 * K)).containsExactly(new Extent(0, 64 * K, ExtentType.HOLE));
            device.writeZeroes(128 * K, 64 * K, ZeroMode.NO_HOLE, true);
            assertThat(read(device, 0, 64 * K)).containsOnly(0);
            assertThat(read(device, 128 * K, 64 * K)).containsOnly(0);
            assertThat(read(device, 64 * K, 64 * K)).containsOnly(1);
        }
    }

    @Test
    void zeroesAndTrimsOverHolesPunchOnlyTheDataAmongThem() throws IOException {
        Path path = dir.resolve("sparse.raw");
        byte[] ones = new byte[8 * K];
        Arrays.fill(ones, (byte) 1);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(SIZE);
            file.seek(256 * K);
            file.write(ones);
            file.seek(768 * K);
            file.write(ones);
        }
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            device.writeZeroes(0, 128 * K, ZeroMode.MAY_TRIM, false); // all hole already
            device.writeZeroes(128 * K, 256 * K, ZeroMode.MAY_TRIM, false); // a hole with data inside
            device.trim(512 * K, 512 * K, false); // the same, by trim
            assertThat(device.extents(0, SIZE)).containsExactly(new Extent(0, SIZE, ExtentType.HOLE));
            assertThat(read(device, 0, SIZE)).containsOnly(0);
        }
    }

    @Test
    void extentsAgreeWithTheBytesFromAnyStartInDataOrHole() throws IOException {
        Path path = dir.resolve("sparse.raw");
        boolean[] data = new boolean[SIZE / (64 * K)];
        Random random = new Random(11);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(SIZE);
            byte[] ones = new byte[64 * K];
            Arrays.fill(ones, (byte) 1);
            for (int i = 0; i < data.length; i++) {
                data[i] = random.nextBoolean();
                if (data[i]) {
                    file.seek((long) i * 64 * K);
                    file.write(ones);
                }
            }
        }
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            for (int round = 0; round < 200; round++) {
                int offset = random.nextInt(SIZE);
                int length = 1 + random.nextInt(SIZE - offset);
                long pos = offset;
                for (Extent extent : device.extents(offset, length)) {
                    assertThat(extent.offset()).as("seed 11 round %d: extents are contiguous", round).isEqualTo(pos);
                    for (long p = extent.offset(); p < extent.end(); p += 4 * K) {
                        assertThat(extent.type() == ExtentType.DATA)
                                .as("seed 11 round %d: type of %s at offset %d", round, extent, p)
                                .isEqualTo(data[(int) (p / (64 * K))]);
                    }
                    pos = extent.end();
                }
                assertThat(pos).as("seed 11 round %d: extents cover %d+%d", round, offset, length).isEqualTo(offset + length);
            }
        }
    }

    @Test
    void withoutZeroRangeNoHoleZeroesAreWrittenAndFastOnesRefused() throws IOException {
        Path shm = Path.of("/dev/shm");
        assertThat(Files.getFileStore(shm).type()).as("/dev/shm must be a tmpfs for this test").isEqualTo("tmpfs");
        Path shmDir = Files.createTempDirectory(shm, "raw-test");
        Path path = shmDir.resolve("disk.raw");
        try {
            byte[] ones = new byte[256 * K];
            Arrays.fill(ones, (byte) 1);
            Files.write(path, ones);
            try (RawFileDevice device = RawFileDevice.open(path, false)) {
                device.writeZeroes(0, 64 * K, ZeroMode.NO_HOLE, false);
                assertThat(device.hostCapabilities().zeroRange()).isFalse();
                assertThat(read(device, 0, 64 * K)).containsOnly(0);
                assertThat(device.extents(0, 64 * K)).as("written zeroes are data")
                        .containsExactly(new Extent(0, 64 * K, ExtentType.DATA));
                assertThatThrownBy(() -> device.writeZeroes(64 * K, 4 * K, new ZeroMode(false, true), false))
                        .isInstanceOf(FastZeroUnsupportedException.class).hasMessageContaining(String.valueOf(64 * K));
                assertThat(read(device, 64 * K, 4 * K)).as("a refused fast zero changes nothing").containsOnly(1);
                device.writeZeroes(64 * K, 4 * K, new ZeroMode(true, true), false);
                assertThat(device.extents(64 * K, 4 * K)).containsExactly(new Extent(64 * K, 4 * K, ExtentType.HOLE));
            }
        } finally {
            Files.deleteIfExists(path);
            Files.delete(shmDir);
        }
    }

    @Test
    void aWriterExcludesEveryOtherOpenerAndReadersShare() throws IOException {
        Path path = file(SIZE);
        try (RawFileDevice writer = RawFileDevice.open(path, false)) {
            assertThat(writer.capabilities().readOnly()).isFalse();
            assertThatThrownBy(() -> RawFileDevice.open(path, false))
                    .isInstanceOf(FileSystemException.class).hasMessageContaining("disk.raw").hasMessageContaining("locked");
            assertThatThrownBy(() -> RawFileDevice.open(path, true)).hasMessageContaining("locked");
        }
        try (RawFileDevice a = RawFileDevice.open(path, true); RawFileDevice b = RawFileDevice.open(path, true)) {
            assertThat(a.size()).isEqualTo(b.size());
            assertThatThrownBy(() -> RawFileDevice.open(path, false)).hasMessageContaining("locked");
        }
        RawFileDevice.open(path, false).close();
    }

    @Test
    void extentsStopAfterTheLimitAndCoverFromTheStart() throws IOException {
        int blocks = RawFileDevice.MAX_EXTENTS / 2 + 10;
        Path path = dir.resolve("striped.raw");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength((long) blocks * 2 * 4 * K);
            for (int i = 0; i < blocks; i++) {
                file.seek((long) i * 2 * 4 * K);
                file.write(new byte[] {1});
            }
        }
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            List<Extent> extents = device.extents(0, device.size());
            assertThat(extents).hasSize(RawFileDevice.MAX_EXTENTS);
            long expected = 0;
            for (Extent extent : extents) {
                assertThat(extent.offset()).isEqualTo(expected);
                assertThat(extent.length()).isEqualTo(4 * K);
                expected = extent.end();
            }
        }
    }

    /** Random writes, trims and zeroes against a byte-array model; extents must agree with it. */
    @Test
    void randomOperationsMatchAModel() throws IOException {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int size = 512 * K;
        byte[] model = new byte[size];
        Path path = dir.resolve("model.raw");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
        }
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            for (int step = 0; step < 300; step++) {
                int offset = random.nextInt(size);
                int length = 1 + random.nextInt(Math.min(64 * K, size - offset));
                switch (random.nextInt(4)) {
                    case 0 -> {
                        byte[] data = new byte[length];
                        random.nextBytes(data);
                        // heap buffers go through the FileChannel, direct ones (the server's) through pwrite
                        ByteBuffer src = random.nextBoolean() ? ByteBuffer.wrap(data)
                                : ByteBuffer.allocateDirect(length).put(data).flip();
                        device.write(offset, src, random.nextBoolean());
                        assertThat(src.hasRemaining()).isFalse();
                        System.arraycopy(data, 0, model, offset, length);
                    }
                    case 1 -> {
                        device.trim(offset, length, false);
                        Arrays.fill(model, offset, offset + length, (byte) 0);
                    }
                    case 2 -> {
                        device.writeZeroes(offset, length, new ZeroMode(random.nextBoolean(), false), false);
                        Arrays.fill(model, offset, offset + length, (byte) 0);
                    }
                    default -> {
                        byte[] actual = random.nextBoolean() ? read(device, offset, length)
                                : readDirect(device, offset, length);
                        if (!Arrays.equals(actual, 0, length, model, offset, offset + length)) {
                            throw new AssertionError("seed " + seed + " step " + step + ": read at " + offset + " differs");
                        }
                    }
                }
            }
            assertThat(read(device, 0, size)).as("seed " + seed).isEqualTo(model);
            long covered = 0;
            while (covered < size) {
                for (Extent extent : device.extents(covered, size - covered)) {
                    assertThat(extent.offset()).as("seed " + seed).isEqualTo(covered);
                    if (extent.type() == ExtentType.HOLE) {
                        for (long i = extent.offset(); i < extent.end(); i++) {
                            if (model[(int) i] != 0) {
                                throw new AssertionError("seed " + seed + ": hole at " + extent + " covers data at " + i);
                            }
                        }
                    }
                    covered = extent.end();
                }
            }
        }
    }

    @Test
    void createMakesAHoleAndRefusesExistingFiles() throws IOException {
        Path path = dir.resolve("created.raw");
        try (RawFileDevice device = RawFileDevice.create(path, 3 * SIZE)) {
            assertThat(device.size()).isEqualTo(3 * SIZE);
            assertThat(device.extents(0, 3 * SIZE)).containsExactly(new Extent(0, 3 * SIZE, ExtentType.HOLE));
        }
        Files.write(path, new byte[] {4});
        assertThatThrownBy(() -> RawFileDevice.create(path, SIZE))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class).hasMessageContaining("already exists");
        assertThat(Files.readAllBytes(path)).containsExactly(4);
    }

    @Test
    void growAddsAHoleAndRefusesToShrink() throws IOException {
        Path path = dataFile();
        RawFileDevice.grow(path, 2L * SIZE);
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            assertThat(device.size()).isEqualTo(2L * SIZE);
            assertThat(device.extents(0, 2L * SIZE)).containsExactly(
                    new Extent(0, SIZE, ExtentType.DATA), new Extent(SIZE, SIZE, ExtentType.HOLE));
        }
        assertThatThrownBy(() -> RawFileDevice.grow(path, SIZE)).hasMessageContaining("cannot shrink");
        assertThat(Files.size(path)).isEqualTo(2L * SIZE);
    }

    /** Threads own disjoint quarters of the device; positional I/O must keep them apart. */
    @Test
    void concurrentWritersAndTrimmersDoNotInterfere() throws Exception {
        long seed = System.nanoTime();
        int quarter = SIZE / 4;
        byte[] model = new byte[SIZE];
        try (RawFileDevice device = RawFileDevice.open(file(SIZE), false);
                var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<?>> jobs = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int base = t * quarter;
                Random random = new Random(seed + t);
                jobs.add(pool.submit(() -> {
                    for (int step = 0; step < 200; step++) {
                        int offset = base + random.nextInt(quarter - 1);
                        int length = 1 + random.nextInt(Math.min(16 * K, base + quarter - offset));
                        if (random.nextInt(3) == 0) {
                            device.writeZeroes(offset, length, ZeroMode.MAY_TRIM, false);
                            Arrays.fill(model, offset, offset + length, (byte) 0);
                        } else {
                            byte[] data = new byte[length];
                            random.nextBytes(data);
                            device.write(offset, ByteBuffer.wrap(data), false);
                            System.arraycopy(data, 0, model, offset, length);
                        }
                    }
                    return null;
                }));
            }
            for (var job : jobs) {
                job.get();
            }
            assertThat(read(device, 0, SIZE)).as("seed " + seed).isEqualTo(model);
        }
    }

    /** A file of SIZE bytes, all 1. */
    private Path dataFile() throws IOException {
        byte[] ones = new byte[SIZE];
        Arrays.fill(ones, (byte) 1);
        return Files.write(dir.resolve("data.raw"), ones);
    }

    @Test
    void usageOfASparseFileIsTheEndOfTheHighestWriteAndRisesAreReservedThenReported() throws IOException {
        Path path = dir.resolve("sparse.raw");
        RawFileDevice.create(path, 16L * SIZE).close();
        List<String> heard = new ArrayList<>();
        AllocationListener listener = new AllocationListener() {
            @Override
            public void reserve(long newUsage) throws NoSpaceException {
                heard.add("reserve " + newUsage);
                if (newUsage > 8L * SIZE) {
                    throw new NoSpaceException("quota");
                }
            }

            @Override
            public void allocated(long offset, long length, long usage) {
                heard.add("allocated " + offset + "+" + length + " -> " + usage);
            }
        };
        try (RawFileDevice device = RawFileDevice.open(path, false, listener)) {
            assertThat(device.usage()).isZero();
            device.write(64 * K, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), false);
            assertThat(device.usage()).isEqualTo(64 * K + 4);
            device.write(0, ByteBuffer.wrap(new byte[4 * K]), false);
            assertThat(heard).containsExactly("reserve " + (64 * K + 4), "allocated 0+" + (64 * K + 4) + " -> " + (64 * K + 4));
            assertThatThrownBy(() -> device.write(9L * SIZE, ByteBuffer.wrap(new byte[] {7}), false))
                    .isInstanceOf(NoSpaceException.class);
            assertThat(device.usage()).isEqualTo(64 * K + 4);
            assertThat(read(device, 9L * SIZE, 1)).containsExactly(0);
        }
        // Reopened, the usage is where the filesystem says the last data ends: its block holding 64K+4.
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            assertThat(device.usage()).isEqualTo(68 * K);
        }
    }
}
