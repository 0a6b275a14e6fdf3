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
 * Reads and overwrites on a device whose every byte has been written once, so no operation
 * allocates: the steady state of a disk in use. Compare the {@code kind} rows of one run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class WrittenDeviceBenchmark {

    private static final int SMALL = 4 << 10;
    private static final int LARGE = 1 << 20;

    @Param({"RAW", "THIN"})
    public DeviceKind kind;

    /** Virtual size, all of it written before measuring; small enough to stay in the page cache. */
    @Param({"1073741824"})
    public long size;

    /** Where the image file goes; the default temporary directory unless set. */
    @Param({""})
    public String dir;

    private ScratchPath file;
    private BlockDevice device;
    private ByteBuffer small;
    private ByteBuffer large;
    private final SplittableRandom random = new SplittableRandom(7);
    private long sequential;

    @Setup(Level.Trial)
    public void fill() throws IOException {
        file = new ScratchPath(dir);
        device = kind.createEmpty(file.image(), size, AllocationListener.NONE);
        small = Payload.random(SMALL, 1);
        large = Payload.random(LARGE, 2);
        for (long offset = 0; offset < size; offset += LARGE) {
            device.write(offset, large.clear(), false);
        }
        device.flush();
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        device.close();
        file.close();
    }

    private long randomSmallOffset() {
        return random.nextLong(size / SMALL) * SMALL;
    }

    private long nextLargeOffset() {
        long offset = sequential;
        sequential = (sequential + LARGE) % size;
        return offset;
    }

    @Benchmark
    public ByteBuffer randomRead4k() throws IOException {
        device.read(randomSmallOffset(), small.clear());
        return small;
    }

    @Benchmark
    public void randomOverwrite4k() throws IOException {
        device.write(randomSmallOffset(), small.clear(), false);
    }

    @Benchmark
    public ByteBuffer sequentialRead1m() throws IOException {
        device.read(nextLargeOffset(), large.clear());
        return large;
    }

    @Benchmark
    public void sequentialOverwrite1m() throws IOException {
        device.write(nextLargeOffset(), large.clear(), false);
    }
}
