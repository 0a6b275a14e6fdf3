package io.tidemark.threshold;

import java.time.Instant;

/**
 * A threshold as {@code threshold show} reports it.
 *
 * @param setting   what the user armed
 * @param offset    the usage in bytes at which it fires next (resolved from a percentage)
 * @param armed     false once a one-shot threshold fired ("cleared" until re-armed)
 * @param fired     how often it fired since it was armed
 * @param lastFired when it last fired, or null
 */
public record ThresholdStatus(ThresholdSetting setting, long offset, boolean armed, long fired, Instant lastFired) {

    public String state() {
        return armed ? "armed" : "cleared";
    }
}
