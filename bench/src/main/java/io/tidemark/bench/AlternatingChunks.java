package io.tidemark.bench;

import java.io.IOException;
import java.util.SplittableRandom;

/**
 * The two sides of a paired round, run in alternating timed chunks, the order of each pair of
 * chunks random: a stall of the shared machine then hits one chunk, not one side, and neither side
 * always runs first (with its caches cold, or warm).
 */
final class AlternatingChunks {

    /** One side's work, in numbered chunks. */
    @FunctionalInterface
    interface Work {
        void run(int chunk) throws IOException;
    }

    private final long[] firstNanos;
    private final long[] secondNanos;

    private AlternatingChunks(int chunks) {
        firstNanos = new long[chunks];
        secondNanos = new long[chunks];
    }

    /** Runs chunks 0 to {@code chunks - 1} of both sides, each pair in a random order, and times each. */
    static AlternatingChunks run(int chunks, Work first, Work second, SplittableRandom random) throws IOException {
        AlternatingChunks timed = new AlternatingChunks(chunks);
        for (int c = 0; c < chunks; c++) {
            if (random.nextBoolean()) {
                timed.firstNanos[c] = time(first, c);
                timed.secondNanos[c] = time(second, c);
            } else {
                timed.secondNanos[c] = time(second, c);
                timed.firstNanos[c] = time(first, c);
            }
        }
        return timed;
    }

    private static long time(Work work, int chunk) throws IOException {
        long start = System.nanoTime();
        work.run(chunk);
        return System.nanoTime() - start;
    }

    /** The median over the chunk pairs of first time / second time. */
    double medianRatio() {
        double[] ratios = new double[firstNanos.length];
        for (int c = 0; c < ratios.length; c++) {
            ratios[c] = (double) firstNanos[c] / Math.max(1, secondNanos[c]);
        }
        return PairedRatios.median(ratios);
    }

    /** The first side's median chunk time: its batch time with stalls of the machine left out. */
    double firstMedianNanos() {
        return median(firstNanos);
    }

    double secondMedianNanos() {
        return median(secondNanos);
    }

    int chunks() {
        return firstNanos.length;
    }

    long firstTotalNanos() {
        return sum(firstNanos);
    }

    long secondTotalNanos() {
        return sum(secondNanos);
    }

    private static double median(long[] nanos) {
        double[] values = new double[nanos.length];
        for (int c = 0; c < values.length; c++) {
            values[c] = nanos[c];
        }
        return PairedRatios.median(values);
    }

    private static long sum(long[] nanos) {
        long sum = 0;
        for (long n : nanos) {
            sum += n;
        }
        return sum;
    }
}
