package io.tidemark.threshold;

import io.tidemark.image.ByteSize;
import java.time.Duration;
import java.util.Objects;

/**
 * A physical limit on an export's usage.
 *
 * @param bytes        the largest usage a write may leave; positive
 * @param policy       what a write that needs more does
 * @param pauseTimeout how long a paused write waits for the quota to be raised before it fails
 */
public record Quota(long bytes, QuotaPolicy policy, Duration pauseTimeout) {

    public static final Duration DEFAULT_PAUSE_TIMEOUT = Duration.ofSeconds(60);

    public Quota {
        if (bytes <= 0) {
            throw new IllegalArgumentException("quota must be positive: " + bytes);
        }
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(pauseTimeout, "pauseTimeout");
        if (pauseTimeout.isNegative()) {
            throw new IllegalArgumentException("pause timeout must not be negative: " + pauseTimeout);
        }
    }

    public Quota(long bytes, QuotaPolicy policy) {
        this(bytes, policy, DEFAULT_PAUSE_TIMEOUT);
    }

    @Override
    public String toString() {
        return ByteSize.format(bytes) + " (" + policy.label() + ")";
    }
}
