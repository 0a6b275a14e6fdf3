package io.tidemark.bench;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.threshold.DeferredAllocationListener;
import io.tidemark.threshold.EventSink;
import io.tidemark.threshold.ExportState;
import io.tidemark.threshold.Quota;
import io.tidemark.threshold.QuotaPolicy;
import io.tidemark.threshold.ThresholdMonitor;
import io.tidemark.threshold.ThresholdSetting;
import io.tidemark.threshold.ThresholdValue;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What the threshold machinery costs a writer, measured as paired rounds in one JVM rather than
 * as JMH forks: fork-to-fork and tmpfs drift was larger than the effect (session 1: NONE 5.12 ±
 * 0.68, ARMED 5.31 ± 0.57 ms per batch).
 *
 * <p>Each round makes two fresh, identical empty thin images, draws one random sequence of 4 KiB
 * first-allocation writes (each into a 2 MiB slot of its own of a 32 GiB device, so every write
 * allocates a cluster), and writes it into both: once with no listener ({@code NONE}) and once
 * through the listener chain {@code serve} builds ({@code SERVER}: a
 * {@link DeferredAllocationListener} relaying to a {@link ThresholdMonitor} with a quota, policy
 * enospc, and an armed threshold, both far above what the batch reaches: the quota check at every
 * growth plus the monitor's compare at every allocation). The two images are written in
 * alternating chunks of {@value #CHUNK} writes, the order of each pair of chunks random, each
 * chunk timed. A round's result is the median over its chunk pairs of SERVER/NONE (a chunk pair
 * writes the same offsets into two images in the same state); the report gives the median of the
 * rounds' ratios with a distribution-free 95% confidence interval (order statistics of the
 * binomial sign test) and their geometric mean with a normal interval. Warm-up rounds run first
 * and are not counted.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -Xmx1g -cp bench/target/tidemark-benchmarks.jar \
 *     io.tidemark.bench.ThresholdOverheadPairs [--dir /dev/shm] [--rounds 200] [--warmup 30] [--writes 4096] [--seed 1] [--variant SERVER]
 * </pre>
 * {@code --variant FLOOR} measures a listener that does one volatile read per allocation and
 * nothing else, the least any watching can cost; {@code --variant NONE} writes NONE on both sides,
 * an A/A run whose ratio should be 1: a check of the method.
 */
public final class ThresholdOverheadPairs {

    private static final int SMALL = 4 << 10;
    private static final long SLOT = 2 << 20;
    private static final int SLOT_FACTOR = 4;
    /**
     * Writes per timed chunk. The two images of a round are written in alternating chunks, so a
     * stall of the shared machine (other processes, tmpfs) hits one chunk, not one variant.
     */
    private static final int CHUNK = 64;

    /** Who hears of allocations in one half of a round. */
    enum Variant {
        /** No listener: the baseline side of every round. */
        NONE,
        /** The chain serve builds: quota check at growth, monitor compare at allocation. */
        SERVER,
        /** The least a watching listener can do: one volatile read and a compare per allocation. */
        FLOOR
    }

    /** A listener that reads one volatile field per allocation and nothing else: the floor of watching. */
    private static final class OneVolatileRead implements AllocationListener {
        private volatile long mark = Long.MAX_VALUE;

        @Override
        public void allocated(long offset, long length, long usage) {
            if (usage > mark) {
                throw new IllegalStateException("nothing is armed, yet usage " + usage + " crossed " + mark);
            }
        }
    }

    private final String dir;
    private final int writes;
    /** The variant measured against NONE: SERVER, FLOOR, or NONE itself for an A/A check of the method. */
    private final Variant measured;
    private final ByteBuffer payload = Payload.random(SMALL, 1);

    private ThresholdOverheadPairs(String dir, int writes, Variant measured) {
        this.dir = dir;
        this.writes = writes;
        this.measured = measured;
    }

    public static void main(String[] args) throws Exception {
        PairedRunOptions options = PairedRunOptions.parse(args, 200, 30, "--writes N --variant SERVER|FLOOR|NONE");
        int writes = Integer.parseInt(options.own("--writes", "4096"));
        Variant measured = Variant.valueOf(options.own("--variant", "SERVER"));
        new ThresholdOverheadPairs(options.dir(), writes, measured).run(options.rounds(), options.warmup(), options.seed());
    }

    private void run(int rounds, int warmup, long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        double[] ratios = new double[rounds];
        double[] noneMs = new double[rounds];
        double[] serverMs = new double[rounds];
        for (int round = -warmup; round < rounds; round++) {
            long[] offsets = FirstAllocationBenchmark.shuffledOffsets(writes, writes * SLOT_FACTOR, SLOT,
                    random.nextLong());
            try (Side none = new Side(Variant.NONE); Side server = new Side(measured)) {
                System.gc();
                AlternatingChunks timed = AlternatingChunks.run(offsets.length / CHUNK,
                        c -> server.write(offsets, c), c -> none.write(offsets, c), random);
                if (round >= 0) {
                    noneMs[round] = timed.secondTotalNanos() / 1e6;
                    serverMs[round] = timed.firstTotalNanos() / 1e6;
                    ratios[round] = timed.medianRatio();
                }
            }
        }
        report(rounds, warmup, ratios, noneMs, serverMs);
    }

    /** One half of a round: a fresh empty image written through one variant's listener, chunk by chunk. */
    private final class Side implements AutoCloseable {
        private final ScratchPath file;
        private final ThresholdMonitor monitor;
        private final BlockDevice device;

        Side(Variant variant) throws IOException {
            long size = SLOT * writes * SLOT_FACTOR;
            file = new ScratchPath(dir);
            if (variant == Variant.SERVER) {
                // As MonitoredExports does it: open with a relay, start the monitor on the opened
                // device's mark, attach.
                DeferredAllocationListener relay = new DeferredAllocationListener();
                device = DeviceKind.THIN.createEmpty(file.image(), size, relay);
                monitor = ThresholdMonitor.start("bench", size, device::usage, device.usage(),
                        new ExportState(List.of(), new Quota(size, QuotaPolicy.ENOSPC), 1),
                        ThresholdMonitor.StateStore.NONE, EventSink.NONE);
                monitor.arm(new ThresholdSetting("never", new ThresholdValue.Absolute(size), 0));
                relay.attach(monitor);
            } else {
                monitor = null;
                device = DeviceKind.THIN.createEmpty(file.image(), size,
                        variant == Variant.FLOOR ? new OneVolatileRead() : AllocationListener.NONE);
            }
        }

        void write(long[] offsets, int chunk) throws IOException {
            for (int i = chunk * CHUNK, end = i + CHUNK; i < end; i++) {
                device.write(offsets[i], payload.clear(), false);
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            device.close();
            if (monitor != null) {
                monitor.close();
            }
            file.close();
        }
    }

    private void report(int rounds, int warmup, double[] ratios, double[] noneMs, double[] serverMs) {
        PairedRatios summary = PairedRatios.of(ratios);
        int[] ranks = summary.medianRanks();
        if (measured == Variant.NONE) {
            System.out.println("A/A check: both sides NONE, the ratio below shows the method's own bias");
        }
        String name = measured.name();
        System.out.printf(Locale.ROOT, "%d paired rounds (%d warm-up rounds not counted), %d first-allocation 4 KiB writes each, images in %s%n",
                rounds, warmup, writes, dir);
        System.out.printf(Locale.ROOT, "NONE   batch median %.3f ms%n", PairedRatios.median(noneMs));
        System.out.printf(Locale.ROOT, "%-6s batch median %.3f ms%n", name, PairedRatios.median(serverMs));
        System.out.printf(Locale.ROOT, "ratio %s/NONE: median %.4f, 95%% CI [%.4f, %.4f] (ranks %d..%d of %d)%n",
                name, summary.median(), summary.medianLow(), summary.medianHigh(), ranks[0], ranks[1], rounds);
        System.out.printf(Locale.ROOT, "ratio %s/NONE: geometric mean %.4f, 95%% CI [%.4f, %.4f]%n",
                name, summary.geometricMean(), summary.geometricMeanLow(), summary.geometricMeanHigh());
        System.out.printf(Locale.ROOT, "rounds where %s was slower: %d of %d%n", name, summary.countAbove(1), rounds);
        System.out.println("ratio spread: " + summary.spread());
    }
}
