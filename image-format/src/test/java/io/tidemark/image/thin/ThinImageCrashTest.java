package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Crashes a workload after every N file operations, with the write cache losing all, none or a
 * random subset of the unforced writes and the last write torn or not; then reopens, checks
 * (clean or leaks only) and verifies every 512-byte block against what it may hold: its content
 * at the last completed flush or anything written to it since. Never another block's data.
 * The workload writes (some with FUA), trims, zeroes, flushes, and closes and reopens the image.
 */
class ThinImageCrashTest {

    private static final int CLUSTER = 4096;
    private static final int BLOCK = 512;
    private static final long SIZE = 4L * 1024 * 1024;
    /** Two regions in two different L2 tables. */
    private static final long[] REGIONS = {0, 2L * 1024 * 1024 + 64 * 1024};
    private static final int REGION_BLOCKS = 96;
    private static final int WORKLOAD_OPS = 40;

    private record Op(int kind, long offset, byte[] data) {
    }

    /**
     * With {@code punch} false the file cannot punch holes: freed space keeps its old bytes. With
     * {@code wide} some zeroing covers the whole disk, more entries than a map delta holds, so
     * that commits alternate between map deltas and checkpoints (which otherwise come only with
     * close).
     */
    @ParameterizedTest(name = "compress={0} seed={1} punch={2} wide={3}")
    @CsvSource({"false,42,true,false", "true,42,true,false", "false,7,true,false", "true,7,true,false",
            "false,42,false,false", "true,7,false,false", "false,42,true,true", "true,7,false,true"})
    void survivesACrashAfterEveryOperation(boolean compress, long defaultSeed, boolean punch, boolean wide)
            throws IOException {
        long seed = Long.getLong("tidemark.seed", defaultSeed);
        List<Op> workload = workload(new Random(seed), compress, wide);
        long total = countOperations(workload, compress, punch);
        assertThat(total).isGreaterThan(50);
        for (long n = 0; n <= total; n++) {
            for (CrashableMemoryFile.Survival survival : CrashableMemoryFile.Survival.values()) {
                boolean tear = (n + survival.ordinal()) % 2 == 0;
                try {
                    crashAndVerify(workload, compress, punch, n, survival, tear, new Random(seed * 31 + n));
                } catch (AssertionError | IOException | RuntimeException e) {
                    throw new AssertionError("seed " + seed + ", crash after " + n + " of " + total
                            + " operations, survival " + survival + ", tear " + tear + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private static List<Op> workload(Random random, boolean compress, boolean wide) {
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < WORKLOAD_OPS; i++) {
            long region = REGIONS[random.nextInt(REGIONS.length)];
            int firstBlock = random.nextInt(REGION_BLOCKS);
            int blocks = 1 + random.nextInt(Math.min(REGION_BLOCKS - firstBlock, 12));
            int kind = random.nextInt(11);
            if (kind < 5 && compress && random.nextBoolean()) {
                // Whole, compressible clusters so that compressed entries occur.
                firstBlock = firstBlock / 8 * 8;
                blocks = 8;
            }
            long offset = region + (long) firstBlock * BLOCK;
            if (wide && kind == 7 && random.nextInt(3) == 0) {
                ops.add(new Op(kind, 0, new byte[(int) SIZE]));
                continue;
            }
            byte[] data = kind < 6 ? ThinImagePropertyTest.randomData(random, blocks * BLOCK) : new byte[blocks * BLOCK];
            if (kind < 6 && isAllZero(data)) {
                random.nextBytes(data);
            }
            ops.add(new Op(kind, offset, data));
        }
        return ops;
    }

    private static boolean isAllZero(byte[] data) {
        for (byte b : data) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static long countOperations(List<Op> workload, boolean compress, boolean punch) throws IOException {
        CrashableMemoryFile file = freshImage(compress, punch);
        long before = file.operations();
        run(workload, file, new BlockHistory());
        return file.operations() - before;
    }

    private static CrashableMemoryFile freshImage(boolean compress, boolean punch) throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        if (!punch) {
            file.disablePunching();
        }
        ThinImage.format(file, SIZE, CLUSTER, compress);
        return file.reopened();
    }

    /** Runs the workload, then closes; records in {@code history} what each block may hold. */
    private static void run(List<Op> workload, CrashableMemoryFile file, BlockHistory history) throws IOException {
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        for (Op op : workload) {
            if (op.kind < 8) {
                history.begin(op.offset, op.data);
            }
            if (op.kind == 10) {
                // A clean close (commit, truncate) and a reopen that derives free space again.
                image.close();
                history.durable();
                image = ThinImage.open(file, false, AllocationListener.NONE);
                continue;
            }
            switch (op.kind) {
                case 0, 1, 2, 3 -> image.write(op.offset, ByteBuffer.wrap(op.data), false);
                case 4, 5 -> {
                    image.write(op.offset, ByteBuffer.wrap(op.data), true);
                    history.durable();
                }
                case 6 -> image.trim(op.offset, op.data.length, false);
                case 7 -> image.writeZeroes(op.offset, op.data.length, ZeroMode.NO_HOLE, false);
                default -> {
                    image.flush();
                    history.durable();
                }
            }
        }
        image.close();
        history.durable();
    }

    private static void crashAndVerify(List<Op> workload, boolean compress, boolean punch, long n,
            CrashableMemoryFile.Survival survival, boolean tear, Random random) throws IOException {
        CrashableMemoryFile file = freshImage(compress, punch);
        file.crashAfter(n, tear);
        BlockHistory history = new BlockHistory();
        try {
            run(workload, file, history);
        } catch (CrashableMemoryFile.SimulatedCrash expected) {
            // the power went out
        } catch (IOException e) {
            if (!file.crashed()) {
                throw e;
            }
        }
        CrashableMemoryFile disk = file.crashed() ? file.afterCrash(survival, random) : file.reopened();
        CheckResult check = ImageChecker.check(disk);
        assertThat(check.corruptions()).as("corruption after crash").isEmpty();
        try (ThinImage image = ThinImage.open(disk, false, AllocationListener.NONE)) {
            history.verify(image);
            // The recovered image stays usable: allocate over the leaked space and close cleanly.
            // The new cluster must read as zeroes around the three bytes, whatever the leak held.
            long unwritten = REGIONS[1] + 200L * BLOCK;
            image.write(unwritten + 5, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
            byte[] expected = new byte[CLUSTER];
            expected[5] = 1;
            expected[6] = 2;
            expected[7] = 3;
            ByteBuffer cluster = ByteBuffer.allocate(CLUSTER);
            image.read(unwritten, cluster);
            assertThat(cluster.array()).as("new cluster over leaked space").isEqualTo(expected);
        }
        assertThat(ImageChecker.check(disk).exitCode()).as("check after recovery and clean close").isZero();
    }

    /** Per 512-byte block: the content at the last completed flush and everything written since. */
    private static final class BlockHistory {
        private final java.util.Map<Long, byte[]> durable = new java.util.HashMap<>();
        private final java.util.Map<Long, byte[]> current = new java.util.HashMap<>();
        private final java.util.Map<Long, List<byte[]>> since = new java.util.HashMap<>();

        void begin(long offset, byte[] data) {
            for (int i = 0; i < data.length / BLOCK; i++) {
                long block = offset / BLOCK + i;
                byte[] content = java.util.Arrays.copyOfRange(data, i * BLOCK, (i + 1) * BLOCK);
                since.computeIfAbsent(block, b -> new ArrayList<>()).add(content);
                current.put(block, content);
            }
        }

        void durable() {
            durable.putAll(current);
            since.clear();
        }

        void verify(ThinImage image) throws IOException {
            for (long region : REGIONS) {
                for (int i = 0; i < REGION_BLOCKS + 8; i++) {
                    long block = region / BLOCK + i;
                    ByteBuffer got = ByteBuffer.allocate(BLOCK);
                    image.read(block * BLOCK, got);
                    List<byte[]> allowed = new ArrayList<>();
                    allowed.add(durable.getOrDefault(block, new byte[BLOCK]));
                    allowed.addAll(since.getOrDefault(block, List.of()));
                    for (int b = 0; b < BLOCK; b++) {
                        if (!mayHold(allowed, b, got.get(b))) {
                            throw new AssertionError("guest offset " + (block * BLOCK + b) + " reads " + got.get(b)
                                    + ", which was never written there since the last flush (flushed value "
                                    + allowed.getFirst()[b] + ", " + (allowed.size() - 1) + " later writes)");
                        }
                    }
                }
            }
        }

        private static boolean mayHold(List<byte[]> allowed, int index, byte value) {
            for (byte[] content : allowed) {
                if (content[index] == value) {
                    return true;
                }
            }
            return false;
        }
    }
}
