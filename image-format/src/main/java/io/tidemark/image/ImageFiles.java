package io.tidemark.image;

import io.tidemark.image.raw.RawFileDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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
     * raw file otherwise. The listener hears of a thin image's allocations; a raw file allocates
     * nothing (see {@link RawFileDevice}).
     */
    public static BlockDevice open(Path path, boolean readOnly, AllocationListener listener) throws IOException {
        return switch (kindOf(path)) {
            case THIN -> throw new IOException(path + ": thin images are not supported yet");
            case RAW -> RawFileDevice.open(path, readOnly);
        };
    }

    /** Tells a thin image from a raw file; files shorter than the magic are raw. */
    public static Kind kindOf(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(THIN_MAGIC.length);
            while (head.hasRemaining() && channel.read(head, head.position()) > 0) {
                // keep reading: a short read is not the end of the file
            }
            return head.position() == THIN_MAGIC.length && Arrays.equals(head.array(), THIN_MAGIC) ? Kind.THIN : Kind.RAW;
        }
    }
}
