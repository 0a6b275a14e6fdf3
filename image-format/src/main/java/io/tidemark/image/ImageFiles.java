package io.tidemark.image;

import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/** Opens an image path as the right kind of device: a thin image by its magic, else a raw file. */
public final class ImageFiles {

    /** The first bytes of every thin image. */
    private static final byte[] THIN_MAGIC = "TIDEMARK".getBytes(StandardCharsets.US_ASCII);

    /** What a file at a path holds, judged by its first bytes. */
    public enum Kind {
        THIN, RAW
    }

    private ImageFiles() {
    }

    /**
     * Opens {@code path} as a thin image when it starts with the magic {@code TIDEMARK}, and as a
     * raw file otherwise. The listener hears of every rise of the device's usage: a thin image's
     * new clusters, a raw file's writes above its highest one (see {@link RawFileDevice}).
     */
    public static BlockDevice open(Path path, boolean readOnly, AllocationListener listener) throws IOException {
        return switch (kindOf(path)) {
            case THIN -> ThinImage.open(path, readOnly, listener);
            case RAW -> RawFileDevice.open(path, readOnly, listener);
        };
    }

    /**
     * Tells a thin image from a raw file; files shorter than the magic are raw. A missing,
     * unreadable or directory path fails with a message that names it and says which.
     */
    public static Kind kindOf(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new FileSystemException(path.toString(), null, "is a directory, not an image");
        }
        try (FileChannel channel = openForReading(path)) {
            ByteBuffer head = ByteBuffer.allocate(THIN_MAGIC.length);
            while (head.hasRemaining() && channel.read(head, head.position()) > 0) {
                // keep reading: a short read is not the end of the file
            }
            return head.position() == THIN_MAGIC.length && Arrays.equals(head.array(), THIN_MAGIC) ? Kind.THIN : Kind.RAW;
        }
    }

    /**
     * Opens for reading, giving the JDK's bare-path exceptions a reason. Closing this descriptor
     * leaves the images' locks alone: they are {@code flock}s on descriptors of their own.
     */
    private static FileChannel openForReading(Path path) throws IOException {
        try {
            return FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException(path.toString(), null, "permission denied");
        }
    }
}
