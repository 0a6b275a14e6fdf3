package io.tidemark.threshold;

import java.util.List;

/**
 * What survives a restart for one export: its thresholds (with their armed state and next offset),
 * its quota and the next event sequence number.
 *
 * @param quota null when the export has none
 */
public record ExportState(List<ThresholdStatus> thresholds, Quota quota, long nextSequence) {

    public static final ExportState EMPTY = new ExportState(List.of(), null, 1);

    public ExportState {
        thresholds = List.copyOf(thresholds);
        if (nextSequence < 1) {
            throw new IllegalArgumentException("sequence numbers start at 1: " + nextSequence);
        }
    }
}
