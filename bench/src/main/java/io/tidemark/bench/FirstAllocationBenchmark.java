package io.tidemark.bench;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Writes into an empty device, each the first write of its range. A range allocates only once, so
 * each iteration gets a fresh empty device and a fixed batch of writes (single-shot mode): the
 * score is the time for one batch, {@value #SMALL_BATCH} 4 KiB writes or {@value #LARGE_BATCH}
 * 1 MiB writes.
 *
 * <ul>
 *   <li>{@code randomFirstWrite4kNewCluster}: every write in a 2 MiB slot of its own, so on a thin
 *       image every write allocates a cluster (whatever the cluster size): the allocation path
 *       alone, the worst case.
 *   <li>{@code randomFirstWrite4kFill}: every 4 KiB block of an 8 MiB region once, in random order,
 *       as a guest filling a fresh disk does (and fio's random map in {@code bench/compare}): on a
 *       thin image the first write into each cluster allocates it, the later ones overwrite.
 *   <li>{@code sequentialFirstWrite1m}: 1 MiB writes from offset 0 up.
 * </ul>
 * On a raw file the filesystem allocates blocks in every case.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class FirstAllocationBenchmark {

    /** 4 KiB writes per measured batch. */
    public static final int SMALL_BATCH = 2048;
    /** 1 MiB writes per measured batch. */
    public static final int LARGE_BATCH = 256;
    /**
     * Batches run before measuring. A batch is short (a few milliseconds), and with 5 the measured
     * batches still ran partly interpreted or C1-compiled code while the C2 compiler competed for
     * the two cores: scores fell by half over the measured batches of both kinds (more for the
     * thin image, which has more Java code on its path), so the ratio measured warm-up, not
     * allocation. Both kinds get the same warm-up.
     */
    private static final int WARMUP_BATCHES = 40;
    /**
     * Batches measured. Ten 4 KiB batches last a few tens of milliseconds in all: one burst of
     * another process's work on the shared machine covered most of one kind's batches (THIN's last
     * warm-up batches 2.7-3.2 ms, then measured 4.6-18 ms while RAW's were 2.7-3.4 ms). Thirty
     * batches per kind, and medians, make one burst a minority.
     */
    private static final int MEASURED_BATCHES = 30;
    private static final int SMALL = 4 << 10;
    private static final int LARGE = 1 << 20;
    /**
     * Stride of the random 4 KiB writes: the largest cluster size a thin image may have, so that
     * every write lands in a cluster of its own and allocates it, whatever the cluster size.
     */
    private static final long SLOT = 2 << 20;
    /** Slots the random writes are drawn from: a 32 GiB sparse device. */
    private static final int SLOTS = SMALL_BATCH * 8;

    @Param({"RAW", "THIN"})
    public DeviceKind kind;

    /** Where the image files go; the default temporary directory unless set. */
    @Param({""})
    public String dir;

    private ByteBuffer small;
    private ByteBuffer large;
    private ScratchPath file;
    private BlockDevice device;
    private long[] newClusterOffsets;
    private long[] fillOffsets;
    private int next;

    @Setup(Level.Trial)
    public void buffers() {
        small = Payload.random(SMALL, 1);
        large = Payload.random(LARGE, 2);
        newClusterOffsets = shuffledOffsets(SMALL_BATCH, SLOTS, SLOT, 11);
        fillOffsets = shuffledOffsets(SMALL_BATCH, SMALL_BATCH, SMALL, 13);
    }

    /** {@code count} distinct multiples of {@code stride} below {@code choices * stride}, in random order. */
    static long[] shuffledOffsets(int count, int choices, long stride, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] all = new long[choices];
        for (int i = 0; i < choices; i++) {
            all[i] = i * stride;
        }
        for (int i = 0; i < count; i++) {
            int j = i + random.nextInt(choices - i);
            long swap = all[i];
            all[i] = all[j];
            all[j] = swap;
        }
        return Arrays.copyOf(all, count);
    }

    @Setup(Level.Iteration)
    public void emptyDevice() throws IOException {
        file = new ScratchPath(dir);
        long size = Math.max(SLOT * SLOTS, (long) LARGE * LARGE_BATCH);
        device = kind.createEmpty(file.image(), size, AllocationListener.NONE);
        next = 0;
    }

    @TearDown(Level.Iteration)
    public void delete() throws IOException {
        device.close();
        file.close();
    }

    @Benchmark
    @Warmup(iterations = WARMUP_BATCHES, batchSize = SMALL_BATCH)
    @Measurement(iterations = MEASURED_BATCHES, batchSize = SMALL_BATCH)
    public void randomFirstWrite4kNewCluster() throws IOException {
        device.write(newClusterOffsets[next++], small.clear(), false);
    }

    @Benchmark
    @Warmup(iterations = WARMUP_BATCHES, batchSize = SMALL_BATCH)
    @Measurement(iterations = MEASURED_BATCHES, batchSize = SMALL_BATCH)
    public void randomFirstWrite4kFill() throws IOException {
        device.write(fillOffsets[next++], small.clear(), false);
    }

    @Benchmark
    @Warmup(iterations = WARMUP_BATCHES, batchSize = LARGE_BATCH)
    @Measurement(iterations = MEASURED_BATCHES, batchSize = LARGE_BATCH)
    public void sequentialFirstWrite1m() throws IOException {
        device.write((long) LARGE * next++, large.clear(), false);
    }
}
