package io.tidemark.image.thin;

import io.tidemark.image.NoSpaceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link ImageFile} over a {@link FileChannel}, locked for its whole life: exclusively for a
 * writer, shared for readers.
 *
 * <p>The lock is a POSIX record lock, which the JVM holds per process and which closing
 * <em>any</em> descriptor of the file drops. So this class keeps one channel per file per JVM:
 * read-only opens of the same file share it (reference counted), a conflicting open fails before
 * any descriptor is opened, and the channel closes with its last user.
 */
final class ChannelImageFile implements ImageFile {

    /** One open, locked file, shared by the read-only users in this JVM. */
    private static final class Shared {
        final FileChannel channel;
        final boolean exclusive;
        final SpaceReleaser releaser;
        int users;

        Shared(FileChannel channel, boolean exclusive, SpaceReleaser releaser) {
            this.channel = channel;
            this.exclusive = exclusive;
            this.releaser = releaser;
        }
    }

    private static final Map<Object, Shared> OPEN = new HashMap<>();

    private final Path path;
    private final Object key;
    private final Shared shared;
    private boolean closed;

    private ChannelImageFile(Path path, Object key, Shared shared) {
        this.path = path;
        this.key = key;
        this.shared = shared;
    }

    /** Opens and locks an existing image file. */
    static ChannelImageFile open(Path path, boolean readOnly) throws IOException {
        Object key = fileKey(path);
        synchronized (OPEN) {
            Shared existing = OPEN.get(key);
            if (existing != null) {
                if (existing.exclusive || !readOnly) {
                    throw locked(path, readOnly);
                }
                existing.users++;
                return new ChannelImageFile(path, key, existing);
            }
            FileChannel channel = readOnly
                    ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            return register(path, key, channel, !readOnly);
        }
    }

    /** Creates a new file (it must not exist) and locks it exclusively. */
    static ChannelImageFile createNew(Path path) throws IOException {
        synchronized (OPEN) {
            FileChannel channel = FileChannel.open(path,
                    StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
            return register(path, fileKey(path), channel, true);
        }
    }

    private static ChannelImageFile register(Path path, Object key, FileChannel channel, boolean exclusive)
            throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock(0, Long.MAX_VALUE, !exclusive);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw locked(path, !exclusive);
        }
        Shared shared = new Shared(channel, exclusive, SpaceReleaser.forFile(path, channel));
        shared.users = 1;
        OPEN.put(key, shared);
        return new ChannelImageFile(path, key, shared);
    }

    /**
     * Whether the file starts with the thin image magic. Reads through the shared channel when
     * this JVM has the file open, since opening and closing another descriptor would drop its lock.
     */
    static boolean hasMagic(Path path) throws IOException {
        ByteBuffer magic = ByteBuffer.allocate(ImageFormat.MAGIC_BYTES.length);
        synchronized (OPEN) {
            Shared open = OPEN.get(fileKey(path));
            if (open != null) {
                open.channel.read(magic, 0);
            } else {
                try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                    channel.read(magic, 0);
                }
            }
        }
        return !magic.hasRemaining() && java.util.Arrays.equals(magic.array(), ImageFormat.MAGIC_BYTES);
    }

    private static Object fileKey(Path path) throws IOException {
        Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        return key != null ? key : path.toRealPath();
    }

    private static ImageLockedException locked(Path path, boolean readOnly) {
        return new ImageLockedException(path + ": image is locked by another user ("
                + (readOnly ? "it is open read-write elsewhere" : "it is open elsewhere; a writer needs it alone")
                + ")");
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = shared.channel.read(dst, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        long at = position;
        try {
            while (src.hasRemaining()) {
                at += shared.channel.write(src, at);
            }
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("No space left")) {
                throw new NoSpaceException(path + ": host filesystem is full writing at offset " + at, e);
            }
            throw e;
        }
    }

    @Override
    public void force() throws IOException {
        shared.channel.force(true);
    }

    @Override
    public long size() throws IOException {
        return shared.channel.size();
    }

    @Override
    public void truncate(long size) throws IOException {
        shared.channel.truncate(size);
    }

    @Override
    public void releaseSpace(long offset, long length) throws IOException {
        shared.releaser.release(offset, length);
    }

    @Override
    public void close() throws IOException {
        synchronized (OPEN) {
            if (closed) {
                return;
            }
            closed = true;
            if (--shared.users > 0) {
                return;
            }
            OPEN.remove(key);
            shared.channel.close();
        }
    }
}
