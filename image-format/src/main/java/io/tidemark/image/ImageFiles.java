package io.tidemark.image;

import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opens an image path as the right kind of device: a thin image by its magic, else a raw file. */
public final class ImageFiles {

    /** What a file at a path holds, judged by its first bytes. */
    public enum Kind {
        THIN, RAW
    }

    private ImageFiles() {
    }

    /**
     * Opens {@code path} as a thin image when it starts with the magic {@code TIDEMARK}, and as a
     * raw file otherwise. The listener hears of a thin image's allocations; a raw file allocates
     * nothing (see {@link RawFileDevice}).
     */
    public static BlockDevice open(Path path, boolean readOnly, AllocationListener listener) throws IOException {
        return switch (kindOf(path)) {
            case THIN -> ThinImage.open(path, readOnly, listener);
            case RAW -> RawFileDevice.open(path, readOnly);
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
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
        if (!Files.isReadable(path)) {
            throw new AccessDeniedException(path.toString(), null, "permission denied");
        }
        // The thin image reads the magic through its own channel when this JVM has the file open:
        // opening and closing another descriptor here would drop its POSIX lock.
        return ThinImage.isThinImage(path) ? Kind.THIN : Kind.RAW;
    }
}
