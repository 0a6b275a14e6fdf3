package io.tidemark.image;

import java.io.IOException;

/**
 * Visits every extent of a device from start to end, asking {@link BlockDevice#extents} again
 * wherever an answer stopped early.
 */
public final class ExtentWalk {

    /** Receives each extent in order. */
    @FunctionalInterface
    public interface Visitor {
        void visit(Extent extent) throws IOException;
    }

    private ExtentWalk() {
    }

    public static void walk(BlockDevice device, Visitor visitor) throws IOException {
        long size = device.size();
        long position = 0;
        while (position < size) {
            for (Extent extent : device.extents(position, size - position)) {
                if (extent.offset() != position) {
                    throw new IOException(device + ": extent " + extent + " does not start at " + position);
                }
                visitor.visit(extent);
                position = extent.end();
            }
        }
    }
}
