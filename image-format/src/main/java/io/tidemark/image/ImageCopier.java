package io.tidemark.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/**
 * Copies the contents of one device into a new one that reads as zeroes everywhere, writing only
 * what is not zero: holes and zero extents of the source are skipped, and so are all-zero blocks
 * inside its data, so the copy stays sparse. Blocks are the target's preferred block size (a thin
 * image's cluster), and data is written in whole blocks so a compressing target sees full clusters.
 */
public final class ImageCopier {

    /** Bytes read from the source at a time (at least one target block). */
    private static final int CHUNK = 1 << 20;

    private final BlockDevice source;
    private final BlockDevice target;
    private final int block;
    private final ByteBuffer buffer;
    private long written;

    /**
     * @param target at least as large as {@code source}, and reading as zeroes everywhere
     */
    public ImageCopier(BlockDevice source, BlockDevice target) {
        if (target.size() < source.size()) {
            throw new IllegalArgumentException("target of " + target.size() + " bytes is smaller than the source of "
                    + source.size() + " bytes");
        }
        this.source = source;
        this.target = target;
        this.block = target.capabilities().preferredBlockSize();
        this.buffer = ByteBuffer.allocate(Math.max(CHUNK, block));
    }

    /**
     * Copies everything, then flushes the target.
     *
     * @param progress told how far through the source the copy is, in bytes
     * @return the bytes written to the target
     */
    public long copy(LongConsumer progress) throws IOException {
        long size = source.size();
        long[] handledUpTo = {0};
        ExtentWalk.walk(source, extent -> {
            if (extent.type() == ExtentType.DATA) {
                // Widen to whole blocks; the widening reads as zeroes and is never copied twice.
                long from = Math.max(Math.floorDiv(extent.offset(), block) * block, handledUpTo[0]);
                long to = Math.min(Math.ceilDiv(extent.end(), block) * block, size);
                if (from < to) {
                    copyRange(from, to, progress);
                    handledUpTo[0] = to;
                }
            }
            progress.accept(extent.end());
        });
        target.flush();
        return written;
    }

    private void copyRange(long from, long to, LongConsumer progress) throws IOException {
        for (long chunk = from; chunk < to; chunk += buffer.capacity()) {
            long base = chunk;
            buffer.clear().limit((int) Math.min(buffer.capacity(), to - chunk));
            source.read(chunk, buffer);
            ZeroBlockRuns.split(buffer, block, (start, end, zero) -> {
                if (!zero) {
                    target.write(base + start, buffer.slice(start, end - start), false);
                    written += end - start;
                }
            });
            progress.accept(chunk + buffer.limit());
        }
    }
}
