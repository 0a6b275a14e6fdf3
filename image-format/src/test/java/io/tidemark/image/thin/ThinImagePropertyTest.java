package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Random read/write/trim/zero/flush/reopen sequences against a plain byte-array model. The seed
 * is printed on failure; rerun one with {@code -Dtidemark.seed=N}.
 */
class ThinImagePropertyTest {

    private static final int CLUSTER = 4096;
    /** Two L2 tables (one maps 2 MiB at 4 KiB clusters) and a partial last cluster. */
    private static final long SIZE = 3L * 1024 * 1024 + 1536;
    private static final int OPERATIONS = 2500;

    /** Without punching, freed space keeps its old bytes, so reusing it must zero-fill. */
    @ParameterizedTest(name = "compress={0} punch={1} run={2}")
    @CsvSource({"false,true,0", "false,true,1", "true,true,0", "true,true,1", "false,false,0", "true,false,0"})
    void behavesLikeAByteArray(boolean compress, boolean punch, int run) throws IOException {
        long seed = Long.getLong("tidemark.seed", System.nanoTime() + run);
        try {
            exercise(seed, compress, punch);
        } catch (AssertionError | IOException | RuntimeException e) {
            throw new AssertionError("failed with seed " + seed + " (compress=" + compress + ", punch=" + punch
                    + "); rerun with -Dtidemark.seed=" + seed + ": " + e, e);
        }
    }

    private static void exercise(long seed, boolean compress, boolean punch) throws IOException {
        Random random = new Random(seed);
        byte[] model = new byte[(int) SIZE];
        CrashableMemoryFile file = new CrashableMemoryFile();
        if (!punch) {
            file.disablePunching();
        }
        ThinImage.format(file, SIZE, CLUSTER, compress);
        ThinImage image = ThinImage.open(file, false, AllocationListener.NONE);
        for (int op = 0; op < OPERATIONS; op++) {
            long offset = randomOffset(random);
            int length = (int) Math.min(SIZE - offset, 1 + random.nextInt(3 * CLUSTER));
            switch (random.nextInt(20)) {
                case 0, 1, 2, 3, 4, 5 -> {
                    byte[] data = randomData(random, length);
                    image.write(offset, ByteBuffer.wrap(data), random.nextInt(10) == 0);
                    System.arraycopy(data, 0, model, (int) offset, length);
                }
                case 6, 7 -> {
                    image.trim(offset, length, false);
                    Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
                }
                case 8, 9 -> {
                    image.writeZeroes(offset, length, new ZeroMode(random.nextBoolean(), random.nextBoolean()), false);
                    Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
                }
                case 10, 11, 12, 13 -> assertReads(image, model, offset, length, op);
                case 14, 15 -> assertExtents(image, model, offset, length, op);
                case 16 -> image.flush();
                case 17 -> {
                    image.close();
                    if (random.nextInt(4) == 0) {
                        assertThat(ImageChecker.check(file).exitCode()).as("check after clean close").isZero();
                    }
                    image = ThinImage.open(file, false, AllocationListener.NONE);
                }
                default -> {
                    // A full-cluster write, the case compression applies to.
                    long cluster = random.nextLong(SIZE / CLUSTER);
                    byte[] data = randomData(random, CLUSTER);
                    image.write(cluster * CLUSTER, ByteBuffer.wrap(data), false);
                    System.arraycopy(data, 0, model, (int) cluster * CLUSTER, CLUSTER);
                }
            }
        }
        assertReads(image, model, 0, (int) SIZE, OPERATIONS);
        image.close();
        assertThat(ImageChecker.check(file).isClean()).isTrue();
        try (ThinImage reopened = ThinImage.open(file, true, AllocationListener.NONE)) {
            assertReads(reopened, model, 0, (int) SIZE, OPERATIONS);
        }
    }

    /** Mostly cluster-aligned or near a cluster edge, sometimes anywhere. */
    private static long randomOffset(Random random) {
        long cluster = random.nextLong(SIZE / CLUSTER + 1);
        long offset = switch (random.nextInt(3)) {
            case 0 -> cluster * CLUSTER;
            case 1 -> cluster * CLUSTER + random.nextInt(CLUSTER);
            default -> Math.max(0, cluster * CLUSTER - 1 - random.nextInt(16));
        };
        return Math.min(offset, SIZE - 1);
    }

    /** Random noise, compressible text, or zeroes. */
    static byte[] randomData(Random random, int length) {
        byte[] data = new byte[length];
        switch (random.nextInt(4)) {
            case 0, 1 -> random.nextBytes(data);
            case 2 -> {
                byte[] phrase = new byte[1 + random.nextInt(40)];
                random.nextBytes(phrase);
                for (int i = 0; i < length; i++) {
                    data[i] = phrase[i % phrase.length];
                }
            }
            default -> { }
        }
        return data;
    }

    private static void assertReads(ThinImage image, byte[] model, long offset, int length, int op) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        image.read(offset, buffer);
        byte[] expected = Arrays.copyOfRange(model, (int) offset, (int) offset + length);
        if (!Arrays.equals(buffer.array(), expected)) {
            int i = Arrays.mismatch(buffer.array(), expected);
            throw new AssertionError("op " + op + ": read " + offset + "+" + length + " differs at guest offset "
                    + (offset + i) + ": got " + buffer.array()[i] + ", model " + expected[i]);
        }
    }

    private static void assertExtents(ThinImage image, byte[] model, long offset, int length, int op)
            throws IOException {
        List<Extent> extents = image.extents(offset, length);
        assertThat(extents.getFirst().offset()).as("op %d: first extent", op).isEqualTo(offset);
        long pos = offset;
        ExtentType previous = null;
        for (Extent extent : extents) {
            assertThat(extent.offset()).as("op %d: extents are contiguous", op).isEqualTo(pos);
            assertThat(extent.type()).as("op %d: adjacent extents are merged", op).isNotEqualTo(previous);
            if (extent.type().readsAsZero()) {
                for (long i = extent.offset(); i < extent.end(); i++) {
                    if (model[(int) i] != 0) {
                        throw new AssertionError("op " + op + ": extent " + extent + " claims zeroes but guest offset "
                                + i + " holds " + model[(int) i]);
                    }
                }
            }
            previous = extent.type();
            pos = extent.end();
        }
        assertThat(pos).as("op %d: extents cover the range", op).isEqualTo(offset + length);
    }
}
