package io.tidemark.threshold;

import java.time.Instant;
import java.util.Objects;

/**
 * One crossing of a high-water mark, as every sink sees it. The first three fields carry the
 * meaning of QEMU's {@code BLOCK_WRITE_THRESHOLD} event ({@code node-name} is our export,
 * {@code amount-exceeded} and {@code write-threshold} keep their names in JSON).
 *
 * @param id             unique id, stable across redeliveries (receivers deduplicate on it)
 * @param sequence       per-export sequence number, increasing by one per event, kept across restarts
 * @param export         the export whose usage crossed the mark
 * @param threshold      the name of the threshold that fired
 * @param amountExceeded usage minus the threshold, in bytes
 * @param writeThreshold the threshold that was exceeded, in bytes
 * @param usage          the export's physical high-water mark that exceeded it
 * @param allocated      bytes the export's allocation layer reported as allocated
 * @param virtualSize    the export's size as clients see it
 * @param quota          the physical limit, or 0 when the export has none
 * @param time           when the crossing was evaluated
 */
public record ThresholdEvent(
        String id,
        long sequence,
        String export,
        String threshold,
        long amountExceeded,
        long writeThreshold,
        long usage,
        long allocated,
        long virtualSize,
        long quota,
        Instant time) {

    public ThresholdEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(export, "export");
        Objects.requireNonNull(threshold, "threshold");
        Objects.requireNonNull(time, "time");
    }
}
