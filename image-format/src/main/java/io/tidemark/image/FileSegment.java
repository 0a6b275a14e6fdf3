package io.tidemark.image;

import java.nio.channels.FileChannel;

/**
 * Where a range of a device is stored as plain bytes in one file: {@code length} bytes at
 * {@code position} of {@code channel}, which a server may send to a socket without copying
 * (sendfile). The device keeps the bytes at that place until {@link #release()}: a segment must be
 * released once the transfer is over, or the space stays pinned. The channel belongs to the device
 * and must not be closed.
 *
 * @param onRelease what {@link #release()} runs: unpins the range (idempotent)
 */
public record FileSegment(FileChannel channel, long position, long length, Runnable onRelease) {

    /** Tells the device the bytes are no longer being read from the file. */
    public void release() {
        onRelease.run();
    }
}
