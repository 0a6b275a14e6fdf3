package io.tidemark.server.control;

import io.tidemark.image.BlockDevice;
import io.tidemark.threshold.ThresholdMonitor;

/**
 * What the control API needs to know about one export, independent of the NBD protocol code
 * that serves it.
 */
public interface ControlledExport {

    String name();

    BlockDevice device();

    ThresholdMonitor monitor();

    /** Client connections currently open on this export. */
    int connections();
}
