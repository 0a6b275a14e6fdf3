package io.tidemark.image.raw;

import io.tidemark.image.Extent;
import io.tidemark.image.ExtentWalk;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ZeroBlockRuns;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/**
 * Returns the space of all-zero blocks in a raw file to the host by punching them out: what
 * compacting means for a file without metadata. Only whole aligned blocks are punched, since a
 * partial block frees nothing.
 */
public final class RawCompactor {

    /** The filesystem block size holes are made of on the filesystems we run on. */
    static final int BLOCK = 4096;
    /** Bytes read and checked at a time. */
    private static final int CHUNK = 256 * BLOCK;

    private final RawFileDevice device;

    public RawCompactor(RawFileDevice device) {
        this.device = device;
    }

    /**
     * Punches out every all-zero block of the file's data.
     *
     * @param progress told how far through the device the scan is, in bytes
     * @return the bytes punched out
     * @throws UnsupportedOperationException when the host filesystem cannot punch holes
     */
    public long compact(LongConsumer progress) throws IOException {
        if (!device.hostCapabilities().punchHole()) {
            throw new UnsupportedOperationException(device.path() + ": the host filesystem cannot punch holes");
        }
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        long[] punched = {0};
        ExtentWalk.walk(device, extent -> {
            if (extent.type() == ExtentType.DATA) {
                punched[0] += punchZeroBlocks(extent, buffer, progress);
            }
            progress.accept(extent.end());
        });
        return punched[0];
    }

    private long punchZeroBlocks(Extent extent, ByteBuffer buffer, LongConsumer progress) throws IOException {
        long start = Math.ceilDiv(extent.offset(), BLOCK) * BLOCK;
        long end = Math.floorDiv(extent.end(), BLOCK) * BLOCK;
        long[] punched = {0};
        for (long chunk = start; chunk < end; chunk += CHUNK) {
            long base = chunk;
            buffer.clear().limit((int) Math.min(CHUNK, end - chunk));
            device.read(chunk, buffer);
            ZeroBlockRuns.split(buffer, BLOCK, (from, to, zero) -> {
                if (zero) {
                    device.trim(base + from, to - from, false);
                    punched[0] += to - from;
                }
            });
            progress.accept(chunk + buffer.limit());
        }
        return punched[0];
    }
}
