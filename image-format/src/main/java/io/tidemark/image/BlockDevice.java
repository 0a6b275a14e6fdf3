package io.tidemark.image;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * The storage behind one export: a fixed-size array of bytes that can be read, written, flushed,
 * trimmed, zeroed and mapped. Implementations are safe for concurrent use by many connections;
 * metrics, read-only views and fault injection are decorators around this interface.
 *
 * <p>Callers validate ranges against {@link #size()} before calling; implementations may still
 * throw {@link IllegalArgumentException} for a range outside the device.
 */
public interface BlockDevice extends Closeable {

    /** Virtual size in bytes, as the client sees it. */
    long size();

    DeviceCapabilities capabilities();

    /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Reads like {@link #read} only if that needs no waiting for the disk (the host's page cache
     * holds the bytes), for a caller that must not block, such as a network event loop. Returns
     * true with {@code dst} filled, or false with its position unchanged (its bytes undefined), and
     * the caller then reads with {@link #read}. The default never tries.
     */
    default boolean readIfCached(long offset, ByteBuffer dst) throws IOException {
        return false;
    }

    /**
     * Writes the remaining bytes of {@code src} at {@code offset}. With {@code fua} the data is
     * durable when this method returns.
     *
     * @throws NoSpaceException when the write needs space that the quota or the host lacks
     */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /**
     * Writes the remaining bytes of {@code parts} one after the other from {@code offset}: one
     * write of data that arrived in pieces (a WRITE payload received partly with its header). With
     * {@code fua} all of it is durable when this method returns. The default writes part after
     * part, then flushes for FUA.
     */
    default void write(long offset, ByteBuffer[] parts, boolean fua) throws IOException {
        long at = offset;
        for (ByteBuffer part : parts) {
            int length = part.remaining();
            write(at, part, false);
            at += length;
        }
        if (fua) {
            flush();
        }
    }

    /**
     * Writes like {@link #write} without FUA, the remaining bytes of {@code parts} one after the
     * other from {@code offset}, but only if that needs no waiting beyond copying into the host's
     * page cache: no space to take (taking it may wait at a quota), no metadata to commit, no lock
     * that another writer holds. For a caller that should not block, such as a network event loop.
     * Returns true once everything is written, or false with nothing written and the buffers
     * untouched; the caller then writes with {@link #write}. The host can still stall any write
     * into its page cache (dirty-page throttling): callers watch how long it took. The default
     * never tries.
     */
    default boolean writeIfQuick(long offset, ByteBuffer... parts) throws IOException {
        return false;
    }

    /** The bytes a write of {@code parts} covers ({@link #write(long, ByteBuffer[], boolean)}, {@link #writeIfQuick}). */
    static long remaining(ByteBuffer... parts) {
        long bytes = 0;
        for (ByteBuffer part : parts) {
            bytes += part.remaining();
        }
        return bytes;
    }

    /** Makes every write completed before this call durable. */
    void flush() throws IOException;

    /**
     * Tells the device the range is no longer needed, so its space may be released. What a
     * trimmed range reads back is unspecified (as in NBD): a thin image returns zeroes, a raw file
     * on a host that cannot punch holes keeps the old data.
     */
    void trim(long offset, long length, boolean fua) throws IOException;

    /**
     * Makes the range read as zeroes.
     *
     * @throws FastZeroUnsupportedException when {@code mode.fastOnly()} is set and the device
     *     cannot zero the range without writing data
     */
    void writeZeroes(long offset, long length, ZeroMode mode, boolean fua) throws IOException;

    /**
     * Describes {@code [offset, offset + length)} as consecutive extents, the first starting at
     * {@code offset}. Adjacent extents of the same type are merged. The list is never empty for
     * a non-empty range and may stop early (but not before covering at least one byte).
     */
    List<Extent> extents(long offset, long length) throws IOException;

    /**
     * Where {@code [offset, offset + length)} is stored contiguously and uncompressed in one file,
     * for a transfer without copying; empty when it is not (holes, zeroes, compressed or scattered
     * storage) or the device cannot tell. The caller must {@link FileSegment#release()} what it
     * gets. The default is empty: such callers read with {@link #read}.
     */
    default Optional<FileSegment> contiguousData(long offset, long length) throws IOException {
        return Optional.empty();
    }

    /** Hints that the range will be read soon; the default does nothing. */
    default void cache(long offset, long length) throws IOException {
    }

    /**
     * Bytes of the backing file in use: the physical high-water mark, the quantity thresholds
     * watch.
     */
    long usage();

    /** Closes the device, marking it cleanly shut down where the format records that. */
    @Override
    void close() throws IOException;
}
