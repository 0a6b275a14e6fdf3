package io.tidemark.image;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Splits a buffer into maximal runs of all-zero blocks and of blocks holding data, so copying and
 * compacting can skip or punch the zero runs and write the data runs in one piece each.
 */
public final class ZeroBlockRuns {

    /** Receives one run {@code [from, to)} of buffer indexes. */
    @FunctionalInterface
    public interface RunHandler {
        void run(int from, int to, boolean zero) throws IOException;
    }

    private ZeroBlockRuns() {
    }

    /**
     * Reports the runs of {@code buffer} from index 0 to its limit, in order, judged
     * {@code blockSize} bytes at a time (the last block may be shorter).
     */
    public static void split(ByteBuffer buffer, int blockSize, RunHandler handler) throws IOException {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive: " + blockSize);
        }
        int length = buffer.limit();
        int runStart = 0;
        boolean runZero = false;
        for (int block = 0; block < length; block += blockSize) {
            boolean zero = isZero(buffer, block, Math.min(length, block + blockSize));
            if (block > runStart && zero != runZero) {
                handler.run(runStart, block, runZero);
                runStart = block;
            }
            runZero = zero;
        }
        if (length > runStart) {
            handler.run(runStart, length, runZero);
        }
    }

    private static boolean isZero(ByteBuffer buffer, int from, int to) {
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            if (buffer.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < to; i++) {
            if (buffer.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
