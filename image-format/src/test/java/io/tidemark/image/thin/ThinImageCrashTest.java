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
     * {@code wide} some zeroing covers the whole disk, more entries than a map delta holds, and
     * is flushed right after a flushed write, so that a checkpoint replaces a map delta
     * (checkpoints otherwise come only with close, and deltas only after a reopen).
     */
    @ParameterizedTest(name = "compress={0} seed={1} punch={2} wide={3}")
    @CsvSource({"false,42,true,false", "true,42,true,false", "false,7,true,false", "true,7,true,false",
            "false,42,false,false", "true,7,false,false", "false,42,true,true", "true,7,false,true"})
    void survivesACrashAfterEveryOperation(boolean compress, long defaultSeed, boolean punch, boolean wide)
            throws IOException {
        long seed = Long.getLong("tidemark.seed", defaultSeed);
        List<Op> workload = workload(new Random(seed), compress, wide);
        CommitLog commits = new CommitLog();
        long total = countOperations(workload, compress, punch, commits);
        assertThat(total).isGreaterThan(50);
        assertThat(commits.deltas).as("flushes that committed a map delta").isGreaterThan(3);
        if (wide) {
            assertThat(commits.checkpointsAfterDelta).as("flushes that checkpointed over a map delta").isPositive();
        }
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
                // A write committed as a map delta, then zeroing that the next flush checkpoints.
                byte[] written = new byte[BLOCK];
                random.nextBytes(written);
                ops.add(new Op(0, offset, written));
                ops.add(new Op(8, 0, new byte[0]));
                ops.add(new Op(kind, 0, new byte[(int) SIZE]));
                ops.add(new Op(8, 0, new byte[0]));
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

    private static long countOperations(List<Op> workload, boolean compress, boolean punch, CommitLog commits)
            throws IOException {
        CrashableMemoryFile file = freshImage(compress, punch);
        long before = file.operations();
        run(workload, file, new BlockHistory(), commits);
        return file.operations() - before;
    }

    /** What the flushes (and FUA writes) of a workload committed: map deltas, or checkpoints. */
    private static final class CommitLog {
        int deltas;
        int checkpointsAfterDelta;
        private boolean lastHadDelta;

        void committed(CrashableMemoryFile file) throws IOException {
            boolean delta = ImageLoader.readHeader(file, file.size()).deltaEntries() > 0;

            deltas += delta ? 1 : 0;
            checkpointsAfterDelta += !delta && lastHadDelta ? 1 : 0;
            lastHadDelta = delta;
        }

        void closed() {

            lastHadDelta = false;
        }
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
        run(workload, file, history, null);
    }

    /** The same, telling {@code commits} (unless null) what each flush committed. */
    private static void run(List<Op> workload, CrashableMemoryFile file, BlockHistory history, CommitLog commits)
            throws IOException {
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        for (Op op : workload) {
            if (op.kind < 8) {
                history.begin(op.offset, op.data);
            }
            if (op.kind == 10) {
                // A clean close (commit, truncate) and a reopen that derives free space again.
                image.close();
                history.durable();
                if (commits != null) {
                    commits.closed();
                }
                image = ThinImage.open(file, false, AllocationListener.NONE);
                continue;
            }
            switch (op.kind) {
                case 0, 1, 2, 3 -> image.write(op.offset, ByteBuffer.wrap(op.data), false);
                case 4, 5 -> image.write(op.offset, ByteBuffer.wrap(op.data), true);
                case 6 -> image.trim(op.offset, op.data.length, false);
                case 7 -> image.writeZeroes(op.offset, op.data.length, ZeroMode.NO_HOLE, false);
                default -> image.flush();
            }
            if (op.kind == 4 || op.kind == 5 || op.kind > 7) {
                history.durable();
                if (commits != null) {
                    commits.committed(file);
                }
            }
        }
        image.close();
        history.durable();
    }

    private static void crashAndVerify(List<Op> workload, boolean compress, boolean punch, long n,
            CrashableMemoryFile.Survival survival, boolean tear, Random random) throws IOException {
        CrashableMemoryFile file = freshImage(compress, punch);
        BlockHistory history = new BlockHistory();
        verifyRecovered(crash(workload, file, history, n, survival, tear, random), history);
    }

    /** Runs the workload on {@code file} until it crashes after {@code n} operations; the disk then. */
    private static CrashableMemoryFile crash(List<Op> workload, CrashableMemoryFile file, BlockHistory history, long n,
            CrashableMemoryFile.Survival survival, boolean tear, Random random) throws IOException {
        file.crashAfter(n, tear);
        try {
            run(workload, file, history);
        } catch (CrashableMemoryFile.SimulatedCrash expected) {
            // the power went out
        } catch (IOException e) {
            if (!file.crashed()) {
                throw e;
            }
        }
        return file.crashed() ? file.afterCrash(survival, random) : file.reopened();
    }

    /** Checks the disk after a crash, verifies its blocks, then writes to it and closes it cleanly. */
    private static void verifyRecovered(CrashableMemoryFile disk, BlockHistory history) throws IOException {
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

    /**
     * Crashes, reopens the crashed image without closing it, runs a second workload on it and
     * crashes again after every operation of that. The first crash usually leaves a map delta
     * (the workload flushes far more often than it closes): the second session loads it, its
     * commits must carry the loaded entries on (in each delta and into the checkpoints), and it
     * allocates over the space the first session leaked or freed.
     */
    @ParameterizedTest(name = "compress={0} seed={1} punch={2} wide={3}")
    @CsvSource({"false,11,true,true", "true,5,true,false", "false,3,false,false"})
    void survivesASecondCrashAfterContinuingOnACrashedImage(boolean compress, long defaultSeed, boolean punch,
            boolean wide) throws IOException {
        long seed = Long.getLong("tidemark.seed", defaultSeed);
        Random random = new Random(seed);
        List<Op> first = workload(random, compress, wide);
        List<Op> second = new ArrayList<>();
        for (Op op : workload(random, compress, wide)) {
            // No clean close early on: the second session is to commit over the loaded delta.
            second.add(op.kind == 10 && second.size() < WORKLOAD_OPS / 2 ? new Op(8, op.offset, op.data) : op);
        }
        long firstTotal = countOperations(first, compress, punch, new CommitLog());
        int loadedDeltas = 0;
        for (long n = 1; n <= firstTotal; n += 5) {
            CrashableMemoryFile.Survival firstSurvival = CrashableMemoryFile.Survival.values()[(int) (n % 3)];
            CrashableMemoryFile crashed = crash(first, freshImage(compress, punch), new BlockHistory(), n,
                    firstSurvival, n % 2 == 0, new Random(seed * 31 + n));
            assertThat(ImageChecker.check(crashed).corruptions()).as("corruption after the first crash").isEmpty();
            loadedDeltas += ImageLoader.readHeader(crashed, crashed.size()).deltaEntries() > 0 ? 1 : 0;
            BlockHistory recovered = new BlockHistory();
            try (ThinImage image = ThinImage.open(crashed, true, AllocationListener.NONE)) {
                recovered.readAsDurable(image);
            }
            CrashableMemoryFile counting = crashed.reopened();
            run(second, counting, new BlockHistory());
            long secondTotal = counting.operations();
            for (long m = 0; m <= secondTotal; m++) {
                CrashableMemoryFile.Survival survival = CrashableMemoryFile.Survival.values()[(int) ((n + m) % 3)];
                boolean tear = (n + m) % 2 == 1;
                BlockHistory history = recovered.copy();
                try {
                    verifyRecovered(crash(second, crashed.reopened(), history, m, survival, tear,
                            new Random(seed * 17 + n * 1000 + m)), history);
                } catch (AssertionError | IOException | RuntimeException e) {
                    throw new AssertionError("seed " + seed + ", first crash after " + n + " of " + firstTotal
                            + " operations (" + firstSurvival + "), second after " + m + " of " + secondTotal
                            + ", survival " + survival + ", tear " + tear + ": " + e.getMessage(), e);
                }
            }
        }
        assertThat(loadedDeltas).as("first crashes that left a map delta to load").isGreaterThan(2);
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

        /** Takes what {@code image} holds now, all of it durable, as the flushed content. */
        void readAsDurable(ThinImage image) throws IOException {
            for (long block : checkedBlocks()) {
                byte[] content = readBlock(image, block);
                durable.put(block, content);
                current.put(block, content);
            }
        }

        /** The blocks verified: each region and a few blocks after it. */
        private static List<Long> checkedBlocks() {
            List<Long> blocks = new ArrayList<>();
            for (long region : REGIONS) {
                for (int i = 0; i < REGION_BLOCKS + 8; i++) {
                    blocks.add(region / BLOCK + i);
                }
            }
            return blocks;
        }

        private static byte[] readBlock(ThinImage image, long block) throws IOException {
            ByteBuffer content = ByteBuffer.allocate(BLOCK);
            image.read(block * BLOCK, content);
            return content.array();
        }

        BlockHistory copy() {
            BlockHistory copy = new BlockHistory();
            copy.durable.putAll(durable);
            copy.current.putAll(current);
            since.forEach((block, contents) -> copy.since.put(block, new ArrayList<>(contents)));
            return copy;
        }

        void verify(ThinImage image) throws IOException {
            for (long block : checkedBlocks()) {
                byte[] got = readBlock(image, block);
                List<byte[]> allowed = new ArrayList<>();
                allowed.add(durable.getOrDefault(block, new byte[BLOCK]));
                allowed.addAll(since.getOrDefault(block, List.of()));
                for (int b = 0; b < BLOCK; b++) {
                    if (!mayHold(allowed, b, got[b])) {
                        throw new AssertionError("guest offset " + (block * BLOCK + b) + " reads " + got[b]
                                + ", which was never written there since the last flush (flushed value "
                                + allowed.getFirst()[b] + ", " + (allowed.size() - 1) + " later writes)");
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
