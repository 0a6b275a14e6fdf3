package io.tidemark.threshold;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter: attempt n waits a random time between half and all of
 * {@code min(max, initial * 2^n)}, so many servers retrying one receiver spread out.
 */
public record Backoff(Duration initial, Duration max) {

    public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(500), Duration.ofMinutes(1));

    public Backoff {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max: " + initial + ", " + max);
        }
    }

    public Duration delay(int attempt, RandomGenerator random) {
        long cap = max.toNanos();
        long exp = initial.toNanos();
        for (int i = 0; i < attempt && exp < cap; i++) {
            exp = Math.min(cap, exp * 2);
        }
        exp = Math.min(cap, exp);
        long half = exp / 2;
        return Duration.ofNanos(half + random.nextLong(exp - half + 1));
    }
}
