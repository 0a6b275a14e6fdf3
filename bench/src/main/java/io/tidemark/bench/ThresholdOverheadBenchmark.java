package io.tidemark.bench;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.threshold.DeferredAllocationListener;
import io.tidemark.threshold.EventSink;
import io.tidemark.threshold.ExportState;
import io.tidemark.threshold.ThresholdMonitor;
import io.tidemark.threshold.ThresholdSetting;
import io.tidemark.threshold.ThresholdValue;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * What watching a thin image's usage costs its writers: 4 KiB random writes into an empty thin
 * image, each allocating a cluster of its own (as {@code FirstAllocationBenchmark
 * .randomFirstWrite4kNewCluster}), with the allocations going to no listener, to a
 * {@link ThresholdMonitor} with a threshold armed that the batch never reaches (the usual case:
 * one compare per allocation), or to one with a threshold repeating every 1 MiB, so that every
 * 16th allocation crosses it and the event thread fires.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, batchSize = ThresholdOverheadBenchmark.BATCH)
@Measurement(iterations = 10, batchSize = ThresholdOverheadBenchmark.BATCH)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class ThresholdOverheadBenchmark {

    /** Writes per measured batch. */
    public static final int BATCH = 2048;
    private static final int SMALL = 4 << 10;
    private static final long SLOT = 2 << 20;
    private static final int SLOTS = BATCH * 8;

    /** Who hears of allocations. */
    public enum Listener { NONE, ARMED, FIRING }

    @Param({"NONE", "ARMED", "FIRING"})
    public Listener listener;

    /** Where the image files go; the default temporary directory unless set. */
    @Param({""})
    public String dir;

    private ByteBuffer small;
    private long[] offsets;
    private ScratchPath file;
    private ThresholdMonitor monitor;
    private BlockDevice device;
    private int next;

    @Setup(Level.Trial)
    public void buffers() {
        small = Payload.random(SMALL, 1);
        offsets = FirstAllocationBenchmark.shuffledOffsets(BATCH, SLOTS, SLOT, 11);
    }

    @Setup(Level.Iteration)
    public void emptyImage() throws IOException {
        file = new ScratchPath(dir);
        long size = SLOT * SLOTS;
        if (listener == Listener.NONE) {
            device = DeviceKind.THIN.createEmpty(file.image(), size, AllocationListener.NONE);
        } else {
            // As serve wires it: open with a relay, start the monitor on the device's mark, attach.
            DeferredAllocationListener relay = new DeferredAllocationListener();
            device = DeviceKind.THIN.createEmpty(file.image(), size, relay);
            monitor = ThresholdMonitor.start("bench", size, device::usage, device.usage(), ExportState.EMPTY,
                    ThresholdMonitor.StateStore.NONE, EventSink.NONE);
            monitor.arm(listener == Listener.ARMED
                    ? new ThresholdSetting("never", new ThresholdValue.Absolute(size), 0)
                    : new ThresholdSetting("every-mib", new ThresholdValue.Absolute(1 << 20), 1 << 20));
            relay.attach(monitor);
        }
        next = 0;
    }

    @TearDown(Level.Iteration)
    public void delete() throws IOException, InterruptedException {
        device.close();
        if (monitor != null) {
            monitor.close();
            monitor = null;
        }
        file.close();
    }

    @Benchmark
    public void randomFirstWrite4kNewCluster() throws IOException {
        device.write(offsets[next++], small.clear(), false);
    }
}
