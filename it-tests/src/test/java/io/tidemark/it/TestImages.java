package io.tidemark.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Raw image files for the tests: sparse files with random data where a test wants it. */
public final class TestImages {

    public static final long MIB = 1024 * 1024;

    private TestImages() {
    }

    /** A sparse raw file of {@code size} bytes: all hole, reads as zeros. */
    public static Path sparse(Path path, long size) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
        }
        return path;
    }

    /** Writes {@code length} random bytes at {@code offset}, leaving the rest of the file as it was. */
    public static void fillRandom(Path path, long offset, int length, Random random) throws IOException {
        byte[] data = new byte[length];
        random.nextBytes(data);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.seek(offset);
            file.write(data);
        }
    }

    /** Fails with the first differing offset unless the two files hold the same bytes. */
    public static void assertSameBytes(Path expected, Path actual) throws IOException {
        long mismatch = Files.mismatch(expected, actual);
        if (mismatch != -1) {
            fail(actual + " differs from " + expected + " at byte offset " + mismatch
                    + " (sizes " + Files.size(expected) + " and " + Files.size(actual) + ")");
        }
    }
}
