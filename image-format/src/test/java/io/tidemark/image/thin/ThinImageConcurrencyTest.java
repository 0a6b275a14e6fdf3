package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many threads write, trim, zero and read their own clusters while another flushes: each
 * thread's clusters must end up exactly as its own model says, and the image must check clean.
 */
class ThinImageConcurrencyTest {

    private static final int CLUSTER = 4096;
    private static final int THREADS = 6;
    private static final int CLUSTERS_PER_THREAD = 64;
    private static final int OPS_PER_THREAD = 1500;

    @ParameterizedTest(name = "compress={0}")
    @ValueSource(booleans = {false, true})
    void threadsOnDistinctClustersDoNotDisturbEachOther(boolean compress) throws Exception {
        long seed = Long.getLong("tidemark.seed", System.nanoTime());
        long size = (long) THREADS * CLUSTERS_PER_THREAD * CLUSTER;
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, size, CLUSTER, compress);
        AtomicLong allocatedBytes = new AtomicLong();
        ThinImage image = ThinImage.open(file, false, (offset, length, usage) -> allocatedBytes.addAndGet(length));
        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
        AtomicBoolean done = new AtomicBoolean();
        try {
            List<Future<byte[][]>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                workers.add(pool.submit(() -> work(image, thread, new Random(seed + thread))));
            }
            Future<?> flusher = pool.submit(() -> {
                while (!done.get()) {
                    image.flush();
                    Thread.sleep(1);
                }
                return null;
            });
            List<byte[][]> models = new ArrayList<>();
            for (Future<byte[][]> worker : workers) {
                models.add(worker.get());
            }
            done.set(true);
            flusher.get();
            image.close();
            assertThat(ImageChecker.check(file).isClean()).as("seed %d", seed).isTrue();
            try (ThinImage reopened = ThinImage.open(file, true, AllocationListener.NONE)) {
                for (int t = 0; t < THREADS; t++) {
                    for (int i = 0; i < CLUSTERS_PER_THREAD; i++) {
                        ByteBuffer got = ByteBuffer.allocate(CLUSTER);
                        reopened.read(clusterOf(t, i) * CLUSTER, got);
                        assertThat(got.array()).as("seed %d thread %d cluster %d", seed, t, i)
                                .isEqualTo(models.get(t)[i]);
                    }
                }
            }
            assertThat(allocatedBytes.get()).isPositive();
        } finally {
            done.set(true);
            pool.shutdownNow();
        }
    }

    /**
     * Threads fight over the same few clusters with writes, trims, zeroes and flushes: no request
     * may fail, the image must check clean, and every 512-byte block must hold one of the values
     * some thread wrote there (or zeroes), never a mixture from another place.
     */
    @ParameterizedTest(name = "compress={0}")
    @ValueSource(booleans = {false, true})
    void contendedClustersStayConsistent(boolean compress) throws Exception {
        long seed = Long.getLong("tidemark.seed", System.nanoTime());
        int clusters = 4;
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, (long) clusters * CLUSTER, CLUSTER, compress);
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        runWorkers(seed, 800, (random, fill) -> {
            long block = random.nextInt(clusters * CLUSTER / 512);
            int blocks = 1 + random.nextInt(clusters * CLUSTER / 512 - (int) block);
            blocks = Math.min(blocks, 16);
            switch (random.nextInt(6)) {
                case 0, 1 -> image.write(block * 512, ByteBuffer.wrap(filled(blocks * 512, fill)), false);
                case 2 -> image.write(random.nextInt(clusters) * (long) CLUSTER,
                        ByteBuffer.wrap(filled(CLUSTER, fill)), false);
                case 3 -> image.trim(block * 512, blocks * 512L, false);
                case 4 -> image.writeZeroes(block * 512, blocks * 512L, ZeroMode.NO_HOLE, false);
                default -> image.flush();
            }
        });
        assertUniformBlocks(read(image, 0, clusters * CLUSTER), seed);
        image.close();
        assertThat(ImageChecker.check(file).isClean()).as("seed %d", seed).isTrue();
    }

    /**
     * Multi-cluster writes, reads and trims over two regions whose clusters share lock stripes and
     * cross the stripes' wrap-around, so runs of clusters lock many stripes at once while others
     * wait: no deadlock (every worker finishes in time), every 512-byte block any read or the final
     * image returns holds one writer's bytes, and the image checks clean.
     */
    @org.junit.jupiter.api.Test
    void runsOfClustersNeitherDeadlockNorTear() throws Exception {
        long seed = Long.getLong("tidemark.seed", System.nanoTime());
        int span = 48;
        long[] regions = {1000L * CLUSTER, 2024L * CLUSTER};
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, 4096L * CLUSTER, CLUSTER, false);
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        runWorkers(seed, 400, (random, fill) -> {
            long base = regions[random.nextInt(regions.length)];
            int first = random.nextInt(span);
            int clusters = 1 + random.nextInt(span - first);
            long offset = base + (long) first * CLUSTER;
            int length = clusters * CLUSTER - (random.nextBoolean() ? 0 : 512 * random.nextInt(8));
            switch (random.nextInt(5)) {
                case 0, 1 -> image.write(offset, ByteBuffer.wrap(filled(length, fill)), false);
                case 2 -> image.trim(offset, length, false);
                case 3 -> assertUniformBlocks(read(image, offset, length), seed);
                default -> image.flush();
            }
        });
        for (long base : regions) {
            assertUniformBlocks(read(image, base, span * CLUSTER), seed);
        }
        image.close();
        assertThat(ImageChecker.check(file).isClean()).as("seed %d", seed).isTrue();
    }

    /** One step of a worker: {@code fill} is the byte this worker writes. */
    private interface WorkerStep {
        void run(Random random, byte fill) throws Exception;
    }

    /**
     * Runs {@value #THREADS} workers of {@code steps} steps each, worker {@code t} with random seed
     * {@code seed + t} and fill byte {@code t + 1}; fails when one fails or they take over a minute
     * (a deadlock).
     */
    private static void runWorkers(long seed, int steps, WorkerStep step) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                byte fill = (byte) (t + 1);
                Random random = new Random(seed + t);
                workers.add(pool.submit(() -> {
                    for (int i = 0; i < steps; i++) {
                        step.run(random, fill);
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] read(ThinImage image, long offset, int length) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(length);
        image.read(offset, got);
        return got.array();
    }

    private static void assertUniformBlocks(byte[] bytes, long seed) {
        for (int block = 0; block < bytes.length / 512; block++) {
            byte first = bytes[block * 512];
            assertThat(first).as("seed %d block %d", seed, block).isBetween((byte) 0, (byte) THREADS);
            for (int i = 1; i < 512; i++) {
                if (bytes[block * 512 + i] != first) {
                    throw new AssertionError("seed " + seed + ": block " + block + " mixes values");
                }
            }
        }
    }

    private static byte[] filled(int length, byte value) {
        byte[] data = new byte[length];
        java.util.Arrays.fill(data, value);
        return data;
    }

    /** Thread {@code t} owns every THREADS-th cluster, so neighbours belong to other threads. */
    private static long clusterOf(int thread, int index) {
        return (long) index * THREADS + thread;
    }

    private static byte[][] work(ThinImage image, int thread, Random random) throws IOException {
        byte[][] model = new byte[CLUSTERS_PER_THREAD][CLUSTER];
        for (int op = 0; op < OPS_PER_THREAD; op++) {
            int index = random.nextInt(CLUSTERS_PER_THREAD);
            long base = clusterOf(thread, index) * CLUSTER;
            int inner = random.nextBoolean() ? 0 : random.nextInt(CLUSTER);
            int length = inner == 0 && random.nextBoolean() ? CLUSTER : 1 + random.nextInt(CLUSTER - inner);
            switch (random.nextInt(8)) {
                case 0, 1, 2, 3 -> {
                    byte[] data = ThinImagePropertyTest.randomData(random, length);
                    image.write(base + inner, ByteBuffer.wrap(data), random.nextInt(50) == 0);
                    System.arraycopy(data, 0, model[index], inner, length);
                }
                case 4 -> {
                    image.trim(base + inner, length, false);
                    java.util.Arrays.fill(model[index], inner, inner + length, (byte) 0);
                }
                case 5 -> {
                    image.writeZeroes(base + inner, length, ZeroMode.NO_HOLE, false);
                    java.util.Arrays.fill(model[index], inner, inner + length, (byte) 0);
                }
                default -> {
                    ByteBuffer got = ByteBuffer.allocate(length);
                    image.read(base + inner, got);
                    byte[] expected = java.util.Arrays.copyOfRange(model[index], inner, inner + length);
                    if (!java.util.Arrays.equals(got.array(), expected)) {
                        throw new AssertionError("thread " + thread + " op " + op + ": read of cluster " + index
                                + " differs from what this thread wrote");
                    }
                }
            }
        }
        return model;
    }
}
