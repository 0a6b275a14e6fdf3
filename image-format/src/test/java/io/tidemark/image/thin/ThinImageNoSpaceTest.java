package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.NoSpaceException;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The host filesystem runs full at every write of a commit (growing the file, the map delta, or
 * in a checkpoint each table and the L1; the header) or of the writes after it; each full write
 * leaves half its bytes behind. Writes
 * and flushes that need space fail with {@link NoSpaceException}, the image stays consistent on
 * disk (also as a crash would leave it), every write acknowledged by a completed flush reads back,
 * and once space is freed writes and flushes succeed again without a reopen.
 */
class ThinImageNoSpaceTest {

    private static final int CLUSTER = 4096;
    private static final long SIZE = 4L * 1024 * 1024;
    /** The second L2 table starts at 2 MiB with 4 KiB clusters. */
    private static final long TABLE_2 = 2L * 1024 * 1024;

    /**
     * Every write of the sequence below (delta commits), and with {@code checkpoint} of its
     * longer variant whose first commit writes tables and the L1.
     */
    static Stream<Arguments> fullAfterWrites() {
        return Stream.of(false, true).flatMap(compress -> Stream.of(false, true).flatMap(checkpoint ->
                IntStream.rangeClosed(0, checkpoint ? 9 : 7).mapToObj(writes -> Arguments.of(compress, checkpoint, writes))));
    }

    @ParameterizedTest(name = "compress={0} checkpoint={1} full after {2} writes")
    @MethodSource("fullAfterWrites")
    void noSpaceFailsWritesAndFlushesUntilSpaceIsFreed(boolean compress, boolean checkpoint, int writesBeforeFull)
            throws IOException {
        Random random = new Random(writesBeforeFull * 31L + (compress ? 1 : 0));
        CrashableMemoryFile file = new CrashableMemoryFile();
        ThinImage.format(file, SIZE, CLUSTER, compress);
        file = file.reopened();
        Model model = new Model();
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        model.write(image, 0, randomBytes(random, CLUSTER));
        model.flush(image);
        model.write(image, TABLE_2, randomBytes(random, 3 * 512));
        model.write(image, 8L * CLUSTER + 512, randomBytes(random, 1024));
        if (checkpoint) {
            // More changed entries than a map delta holds (256 with 4 KiB clusters), and no data:
            // the next commit is a checkpoint.
            image.writeZeroes(TABLE_2 + 128L * CLUSTER, 300L * CLUSTER, ZeroMode.NO_HOLE, false);
        }

        file.runOutOfSpaceAfter(writesBeforeFull);
        boolean anyRefused = false;
        anyRefused |= !model.tryFlush(image);
        anyRefused |= !model.tryWrite(image, TABLE_2 + 16L * CLUSTER, randomBytes(random, CLUSTER));
        anyRefused |= !model.tryFlush(image);
        anyRefused |= !model.tryWrite(image, 32L * CLUSTER, randomBytes(random, 2 * CLUSTER));
        anyRefused |= !model.tryFlush(image);
        assertThat(anyRefused).as("a write or flush was refused for lack of space").isTrue();
        assertThat(file.noSpaceFailures()).isPositive();

        // Still full: new space is refused, and so is a flush with anything to commit.
        ThinImage full = image;
        assertThatThrownBy(() -> full.write(40L * CLUSTER, ByteBuffer.wrap(randomBytes(random, 100)), false))
                .isInstanceOf(NoSpaceException.class);
        if (model.hasUnflushed()) {
            assertThatThrownBy(full::flush).isInstanceOf(NoSpaceException.class);
        }
        model.verify(image, model.acknowledged);
        verifyOnDisk(file.reopened(), model, "the file as it is");
        verifyOnDisk(file.afterCrash(CrashableMemoryFile.Survival.NONE, random), model, "a crash keeping forced writes");
        verifyOnDisk(file.afterCrash(CrashableMemoryFile.Survival.ALL, random), model, "a crash keeping all writes");

        file.freeSpace();
        model.write(image, 40L * CLUSTER, randomBytes(random, 100));
        model.flush(image);
        model.write(image, TABLE_2 + 64L * CLUSTER, randomBytes(random, CLUSTER));
        model.write(image, 48L * CLUSTER, randomBytes(random, 2 * CLUSTER));
        image.write(52L * CLUSTER, ByteBuffer.wrap(model.put(52L * CLUSTER, randomBytes(random, 512))), true);
        model.flushed();
        model.verify(image, model.acknowledged);
        image.close();

        assertThat(ImageChecker.check(file).exitCode()).as("check after a clean close").isZero();
        try (ThinImage reopened = ThinImage.open(file, true, AllocationListener.NONE)) {
            model.verify(reopened, model.acknowledged);
        }
    }

    /** The disk, opened after the space ran out, is consistent and holds every flushed write. */
    private static void verifyOnDisk(CrashableMemoryFile disk, Model model, String state) throws IOException {
        CheckResult check = ImageChecker.check(disk);
        assertThat(check.corruptions()).as("corruptions in %s", state).isEmpty();
        try (ThinImage image = ThinImage.open(disk, true, AllocationListener.NONE)) {
            model.verify(image, model.durable);
        }
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        if (random.nextBoolean()) {
            // compressible: a repeated prefix
            for (int i = 64; i < length; i++) {
                bytes[i] = bytes[i % 64];
            }
        }
        return bytes;
    }

    /**
     * Writes at distinct offsets: acknowledged ones must read back from the open image, durable
     * ones (acknowledged before a completed flush) from the disk too. A refused write's range is
     * undefined and not checked.
     */
    private static final class Model {
        final Map<Long, byte[]> acknowledged = new LinkedHashMap<>();
        final Map<Long, byte[]> durable = new LinkedHashMap<>();
        private final List<Long> unflushed = new ArrayList<>();

        byte[] put(long offset, byte[] data) {
            acknowledged.put(offset, data);
            unflushed.add(offset);
            return data;
        }

        void write(ThinImage image, long offset, byte[] data) throws IOException {
            image.write(offset, ByteBuffer.wrap(data), false);
            put(offset, data);
        }

        boolean tryWrite(ThinImage image, long offset, byte[] data) throws IOException {
            try {
                write(image, offset, data);
                return true;
            } catch (NoSpaceException refused) {
                return false;
            }
        }

        void flush(ThinImage image) throws IOException {
            image.flush();
            flushed();
        }

        boolean tryFlush(ThinImage image) throws IOException {
            try {
                flush(image);
                return true;
            } catch (NoSpaceException refused) {
                return false;
            }
        }

        void flushed() {
            for (long offset : unflushed) {
                durable.put(offset, acknowledged.get(offset));
            }
            unflushed.clear();
        }

        boolean hasUnflushed() {
            return !unflushed.isEmpty();
        }

        void verify(ThinImage image, Map<Long, byte[]> writes) throws IOException {
            for (Map.Entry<Long, byte[]> write : writes.entrySet()) {
                ByteBuffer read = ByteBuffer.allocate(write.getValue().length);
                image.read(write.getKey(), read);
                assertThat(read.array()).as("bytes at offset %d", write.getKey()).isEqualTo(write.getValue());
            }
        }
    }
}
