package io.tidemark.image.thin;

import io.tidemark.image.NoSpaceException;
import io.tidemark.image.hostfile.HostFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@link ImageFile} over a {@link FileChannel} for I/O and a {@link HostFile} descriptor for what
 * the channel lacks: the lock and hole punching.
 *
 * <p>The lock is an {@code flock} on the host descriptor, exclusive for a writer and shared for
 * readers, held until close. Unlike the channel's POSIX locks it is not dropped when some other
 * code in this process opens and closes the same file (as {@code ImageFiles.kindOf} does), and
 * it conflicts between descriptors of one process too.
 */
final class ChannelImageFile implements ImageFile {

    private final Path path;
    private final FileChannel channel;
    private final HostFile host;

    private ChannelImageFile(Path path, FileChannel channel, HostFile host) {
        this.path = path;
        this.channel = channel;
        this.host = host;
    }

    @Override
    public FileChannel channel() {
        return channel;
    }

    /** Opens and locks an existing image file. */
    static ChannelImageFile open(Path path, boolean readOnly) throws IOException {
        return lock(path, readOnly, readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    /**
     * Opens an existing image file read-only without taking its lock (force-share): the caller
     * accepts that a writer holding the lock may change the file while it is read.
     */
    static ChannelImageFile openUnlocked(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new ChannelImageFile(path, channel, HostFile.open(path, false));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Creates a new file (it must not exist) and locks it exclusively. */
    static ChannelImageFile createNew(Path path) throws IOException {
        return lock(path, false, FileChannel.open(path,
                StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW));
    }

    private static ChannelImageFile lock(Path path, boolean readOnly, FileChannel channel) throws IOException {
        HostFile host = null;
        try {
            host = HostFile.open(path, !readOnly);
            if (!host.tryLock(!readOnly)) {
                throw new ImageLockedException(path + ": image is locked by another user ("
                        + (readOnly ? "it is open read-write elsewhere" : "it is open elsewhere; a writer needs it alone")
                        + ")");
            }
            return new ChannelImageFile(path, channel, host);
        } catch (IOException | RuntimeException e) {
            if (host != null) {
                host.close();
            }
            channel.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    @Override
    public int readIfCached(ByteBuffer dst, long position) throws IOException {
        return host.readIfCached(position, dst);
    }

    @Override
    public boolean writesMayWaitOnRemote() {
        return host.isRemote();
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        long at = position;
        try {
            while (src.hasRemaining()) {
                at += channel.write(src, at);
            }
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("No space left") || message.contains("Disk quota exceeded")) {
                throw new NoSpaceException(path + ": host filesystem is full writing at offset " + at, e);
            }
            throw e;
        }
    }

    @Override
    public void force() throws IOException {
        channel.force(true);
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public void truncate(long size) throws IOException {
        channel.truncate(size);
    }

    /** Punches a hole where the filesystem can; elsewhere the space stays allocated (and reused). */
    @Override
    public boolean releaseSpace(long offset, long length) throws IOException {
        return host.punchHole(offset, length);
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            host.close();
        }
    }
}
