package io.tidemark.image.thin;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The file operations a thin image performs, and nothing else, so that tests can substitute a
 * layer that crashes after N operations or tears a write.
 */
interface ImageFile extends Closeable {

    /** The file's name for messages. */
    String name();

    /** Reads from {@code position} until {@code dst} is full or the file ends; returns bytes read. */
    int read(ByteBuffer dst, long position) throws IOException;

    /**
     * Reads into the direct buffer {@code dst} only what the page cache holds, without waiting for
     * the disk; returns the bytes read, or -1 when nothing could be read so (the default: this
     * layer cannot tell).
     */
    default int readIfCached(ByteBuffer dst, long position) throws IOException {
        return -1;
    }

    /**
     * Whether a write into this file can wait on a network or a user-space daemon even when it
     * only fills the page cache (the file is on NFS, SMB, FUSE…); false for files of this host.
     */
    default boolean writesMayWaitOnRemote() {
        return false;
    }

    /** Writes all of {@code src} at {@code position}. */
    void write(ByteBuffer src, long position) throws IOException;

    /** Makes all completed writes durable (fsync). */
    void force() throws IOException;

    long size() throws IOException;

    void truncate(long size) throws IOException;

    /**
     * Returns the host space of an unreferenced range (hole punching).
     *
     * @return true when the range now reads as zeroes; false when the host cannot punch holes and
     *         the contents stayed as they were
     */
    boolean releaseSpace(long offset, long length) throws IOException;

    /**
     * The open channel of the file, for transfers to a socket without copying (sendfile); null
     * when this layer has none (test substitutes), and then reads go through {@link #read}.
     */
    default FileChannel channel() {
        return null;
    }

    /** Reads exactly {@code dst.remaining()} bytes or fails naming the offset. */
    default void readFully(ByteBuffer dst, long position) throws IOException {
        int want = dst.remaining();
        int got = read(dst, position);
        if (got < want) {
            throw new CorruptImageException(name(), position, "file ends after " + (position + got)
                    + " bytes while reading " + want + " bytes (truncated image)");
        }
    }
}
