package io.tidemark.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The summary of a paired benchmark's per-round ratios (one ratio per round, each of two variants
 * measured in the same round): the median with a distribution-free 95% confidence interval (order
 * statistics of the binomial sign test, so no assumption about the ratios' distribution) and the
 * geometric mean with a normal interval on the logarithms.
 */
final class PairedRatios {

    private final double[] sorted;
    private final int[] ranks;
    private final double meanLog;
    private final double halfWidthLog;

    private PairedRatios(double[] ratios) {
        int n = ratios.length;
        sorted = ratios.clone();
        Arrays.sort(sorted);
        ranks = medianConfidenceRanks(n);
        double sum = 0;
        for (double r : ratios) {
            sum += Math.log(r);
        }
        meanLog = sum / n;
        double squares = 0;
        for (double r : ratios) {
            squares += Math.pow(Math.log(r) - meanLog, 2);
        }
        halfWidthLog = 1.96 * Math.sqrt(squares / (n - 1) / n);
    }

    /** Summarises the per-round ratios; needs at least two. */
    static PairedRatios of(double[] ratios) {
        if (ratios.length < 2) {
            throw new IllegalArgumentException("need at least 2 ratios for an interval, got " + ratios.length);
        }
        return new PairedRatios(ratios);
    }

    int rounds() {
        return sorted.length;
    }

    double median() {
        return median(sorted);
    }

    double medianLow() {
        return sorted[ranks[0] - 1];
    }

    double medianHigh() {
        return sorted[ranks[1] - 1];
    }

    /** 1-based ranks of the order statistics that bound the median. */
    int[] medianRanks() {
        return ranks.clone();
    }

    double geometricMean() {
        return Math.exp(meanLog);
    }

    double geometricMeanLow() {
        return Math.exp(meanLog - halfWidthLog);
    }

    double geometricMeanHigh() {
        return Math.exp(meanLog + halfWidthLog);
    }

    /** How many rounds' ratios exceed {@code bound}. */
    int countAbove(double bound) {
        int count = 0;
        for (double r : sorted) {
            if (r > bound) {
                count++;
            }
        }
        return count;
    }

    /** The 10th, 25th, 75th and 90th percentiles, as {@code p10 0.9876, ...}. */
    String spread() {
        List<String> quantiles = new ArrayList<>();
        for (double q : new double[] {0.1, 0.25, 0.75, 0.9}) {
            quantiles.add(String.format(Locale.ROOT, "p%.0f %.4f", q * 100,
                    sorted[(int) Math.round(q * (sorted.length - 1))]));
        }
        return String.join(", ", quantiles);
    }

    static double median(double[] values) {
        double[] ordered = values.clone();
        Arrays.sort(ordered);
        int n = ordered.length;
        return n % 2 == 1 ? ordered[n / 2] : (ordered[n / 2 - 1] + ordered[n / 2]) / 2;
    }

    /**
     * 1-based ranks (lo, hi) of the order statistics that bound the median with at least 95%
     * confidence: the largest lo with P(Binomial(n, 1/2) < lo) <= 2.5%, and hi = n + 1 - lo.
     */
    static int[] medianConfidenceRanks(int n) {
        double cumulative = 0;
        double p = Math.pow(0.5, n);
        int lo = 1;
        for (int k = 0; k < n; k++) {
            cumulative += p;
            if (cumulative > 0.025) {
                lo = Math.max(1, k);
                break;
            }
            p = p * (n - k) / (k + 1);
        }
        return new int[] {lo, n + 1 - lo};
    }
}
