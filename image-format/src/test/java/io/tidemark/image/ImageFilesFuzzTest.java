package io.tidemark.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of opening an image file whose bytes an attacker chose (a file handed
 * in by a user, or one damaged on disk): {@link ImageFiles#open} either fails with an
 * {@link IOException} that says what is wrong, or yields a device whose every byte can be read
 * (or whose damage is reported as such an exception) and whose extents tile it exactly. No
 * other exception, no hang, no unbounded allocation. Seeds live in {@code ImageFilesFuzzTestInputs/}; see
 * docs/fuzzing.md for long runs.
 */
class ImageFilesFuzzTest {

    /** Reads are done in pieces of this size, so a big claimed size cannot make us allocate it. */
    private static final int READ_CHUNK = 64 * 1024;
    /** A device claiming more than this is only sampled, at its start and end. */
    private static final long FULL_READ_LIMIT = 16L * 1024 * 1024;

    private static Path directory;

    @BeforeAll
    static void createDirectory() throws IOException {
        directory = Files.createTempDirectory("tidemark-image-fuzz");
    }

    @AfterAll
    static void deleteDirectory() throws IOException {
        try (var files = Files.list(directory)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(directory);
    }

    @FuzzTest(maxDuration = "10s")
    void opensAnyFileOrSaysWhyNot(byte[] content) throws IOException {
        Path image = directory.resolve("image");
        Files.write(image, content);
        BlockDevice device;
        try {
            device = ImageFiles.open(image, true, AllocationListener.NONE);
        } catch (IOException e) {
            assertThat(e.getMessage()).as("why the image does not open").isNotBlank();
            return;
        }
        try (device) {
            long size = device.size();
            assertThat(size).isNotNegative();
            readAll(device, size);
            if (device.capabilities().extents()) {
                assertExtentsTile(device, size);
            }
        } catch (IOException e) {
            // damage found only when reading (a cluster that does not decompress): fine, if it says where
            assertThat(e.getMessage()).as("why the image cannot be read").isNotBlank();
        }
    }

    private static void readAll(BlockDevice device, long size) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(READ_CHUNK);
        if (size <= FULL_READ_LIMIT) {
            for (long offset = 0; offset < size; offset += READ_CHUNK) {
                device.read(offset, buffer.clear().limit((int) Math.min(READ_CHUNK, size - offset)));
            }
        } else {
            device.read(0, buffer.clear());
            device.read(size - READ_CHUNK, buffer.clear());
        }
    }

    /**
     * Extents follow each other without gaps or overlaps from 0 to the device's end; a device may
     * answer a prefix of the range asked, and is asked again from where it stopped.
     */
    private static void assertExtentsTile(BlockDevice device, long size) throws IOException {
        long pos = 0;
        while (pos < size) {
            List<Extent> extents = device.extents(pos, size - pos);
            assertThat(extents).as("extents from offset %d", pos).isNotEmpty();
            for (Extent e : extents) {
                assertThat(e.offset()).as("start of %s", e).isEqualTo(pos);
                assertThat(e.length()).as("length of %s", e).isPositive();
                pos = e.end();
            }
            assertThat(pos).as("end of the extents").isLessThanOrEqualTo(size);
        }
    }
}
