package io.tidemark.bench;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * Writes into an empty device, where every write is the first one into its range: on a thin
 * image each allocates a cluster, on a raw file the filesystem allocates blocks. A write
 * allocates only once, so each iteration gets a fresh empty device and a fixed batch of writes
 * (single-shot mode): the score is the time for one batch, {@value #SMALL_BATCH} 4 KiB writes or
 * {@value #LARGE_BATCH} 1 MiB writes.
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
    private static final int SMALL = 4 << 10;
    private static final int LARGE = 1 << 20;
    /**
     * Stride of the random 4 KiB writes: the largest cluster size a thin image may have, so that
     * every write lands in a cluster of its own and allocates it, whatever the cluster size.
     */
    private static final long SLOT = 2 << 20;
    /** Slots the random writes are drawn from: a 32 GiB sparse device. */
    private static final int SLOTS = SMALL_BATCH * 8;

    @Param({"RAW"})
    public DeviceKind kind;

    /** Where the image files go; the default temporary directory unless set. */
    @Param({""})
    public String dir;

    private ByteBuffer small;
    private ByteBuffer large;
    private ScratchPath file;
    private BlockDevice device;
    private long[] randomSlots;
    private int next;

    @Setup(Level.Trial)
    public void buffers() {
        small = Payload.random(SMALL, 1);
        large = Payload.random(LARGE, 2);
        // A fixed shuffle of SMALL_BATCH distinct slots: random order, never the same cluster twice.
        randomSlots = new long[SMALL_BATCH];
        SplittableRandom random = new SplittableRandom(11);
        long[] all = new long[SLOTS];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        for (int i = 0; i < SMALL_BATCH; i++) {
            int j = i + random.nextInt(all.length - i);
            long swap = all[i];
            all[i] = all[j];
            all[j] = swap;
            randomSlots[i] = all[i] * SLOT;
        }
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
    @Warmup(iterations = 5, batchSize = SMALL_BATCH)
    @Measurement(iterations = 10, batchSize = SMALL_BATCH)
    public void randomFirstWrite4k() throws IOException {
        device.write(randomSlots[next++], small.clear(), false);
    }

    @Benchmark
    @Warmup(iterations = 5, batchSize = LARGE_BATCH)
    @Measurement(iterations = 10, batchSize = LARGE_BATCH)
    public void sequentialFirstWrite1m() throws IOException {
        device.write((long) LARGE * next++, large.clear(), false);
    }
}
