package io.tidemark.server.cli.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.image.AllocationListener;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ExtentWalk;
import io.tidemark.image.ImageFiles;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import io.tidemark.server.cli.InProcessCli;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code tidemark image …} in-process on thin images: output, files and exit codes. */
class ThinImageCommandTest {

    private static final int K = 1024;
    private static final int M = K * K;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final InProcessCli cli = new InProcessCli();

    private int run(Object... args) {
        return cli.run(args);
    }

    private JsonNode json(Object... args) throws IOException {
        assertThat(run(args)).as(cli::err).isZero();
        return JSON.readTree(cli.out());
    }

    /**
     * An 8 MiB sparse raw file: random data at 1M (100K long, unaligned end), text at 5M (256K,
     * compressible), zeroes written as data at 3M (64K), and a last byte.
     */
    private Path sparseRaw(String name, long seed) throws IOException {
        Path path = dir.resolve(name);
        Random random = new Random(seed);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(8 * M);
            byte[] data = new byte[100 * K];
            random.nextBytes(data);
            file.seek(M);
            file.write(data);
            file.seek(3 * M);
            file.write(new byte[64 * K]);
            byte[] text = "tidemark thin images compress well when the data repeats. ".repeat(5000)
                    .substring(0, 256 * K).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            file.seek(5 * M);
            file.write(text);
            file.seek(8 * M - 1);
            file.write(0x7f);
        }
        return path;
    }

    private static List<Extent> rawExtents(Path path) throws IOException {
        List<Extent> extents = new ArrayList<>();
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            ExtentWalk.walk(device, extents::add);
        }
        return extents;
    }

    private static long dataBytes(List<Extent> extents) {
        return extents.stream().filter(e -> e.type() == ExtentType.DATA).mapToLong(Extent::length).sum();
    }

    @Test
    void createMakesACleanEmptyThinImage() throws IOException {
        Path path = dir.resolve("new.tm");
        assertThat(run("image", "create", path, "--size", "10G", "--cluster-size", "128K")).isZero();
        assertThat(cli.out()).contains("created").contains("tidemark").contains("10 GiB");
        assertThat(Files.readAllBytes(path)).startsWith("TIDEMARK".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

        JsonNode info = json("image", "info", path, "--json");
        assertThat(info.get("format").asText()).isEqualTo("tidemark");
        assertThat(info.get("virtual-size").asLong()).isEqualTo(10L << 30);
        assertThat(info.get("cluster-size").asInt()).isEqualTo(128 * K);
        assertThat(info.get("allocated").asLong()).isZero();
        assertThat(info.get("clean").asBoolean()).isTrue();
        assertThat(info.get("physical-size").asLong()).isEqualTo(Files.size(path)).isLessThan(M);

        assertThat(run("image", "check", path)).isZero();
        assertThat(cli.out()).contains("no errors found");
        assertThat(json("image", "map", path, "--json").get(0).get("present").asBoolean()).isFalse();
    }

    @Test
    void badClusterSizeIsRefusedAndNothingIsLeftBehind() {
        Path path = dir.resolve("bad.tm");
        assertThat(run("image", "create", path, "--size", "1G", "--cluster-size", "3K")).isEqualTo(1);
        assertThat(cli.err()).contains("cluster size 3072");
        assertThat(path).doesNotExist();
        assertThat(run("image", "create", path, "--size", "1G", "--cluster-size", "4G")).isEqualTo(1);
        assertThat(cli.err()).contains("cluster size");
        assertThat(path).doesNotExist();
    }

    @Test
    void convertRawToThinToRawKeepsBytesAndHoles() throws IOException {
        long seed = System.nanoTime();
        Path raw = sparseRaw("disk.raw", seed);
        Path thin = dir.resolve("disk.tm");
        Path back = dir.resolve("back.raw");
        List<Extent> sourceExtents = rawExtents(raw);

        assertThat(run("image", "convert", raw, thin)).as(cli::err).isZero();
        assertThat(ImageFiles.kindOf(thin)).isEqualTo(ImageFiles.Kind.THIN);
        JsonNode info = json("image", "info", thin, "--json");
        assertThat(info.get("virtual-size").asLong()).isEqualTo(8 * M);
        // 100K of data takes 2 clusters, the text 4, the last byte 1; the written zeroes none.
        assertThat(info.get("allocated").asLong()).as("seed " + seed).isEqualTo(7 * 64 * K);

        assertThat(run("image", "convert", thin, back, "-O", "raw")).as(cli::err).isZero();
        assertThat(Files.readAllBytes(back)).as("seed " + seed).isEqualTo(Files.readAllBytes(raw));
        List<Extent> backExtents = rawExtents(back);
        assertThat(dataBytes(backExtents)).as("only the thin image's clusters came back as data")
                .isLessThanOrEqualTo(7 * 64 * K).isLessThan(dataBytes(sourceExtents));
        assertThat(backExtents.getFirst()).isEqualTo(new Extent(0, M, ExtentType.HOLE));
        assertThat(backExtents).as("the written zeroes at 3M are a hole again")
                .contains(new Extent(M + 100 * K, 4 * M - 100 * K, ExtentType.HOLE));

        JsonNode map = json("image", "map", thin, "--json");
        assertThat(map.get(0).get("start").asLong()).isZero();
        assertThat(map.get(0).get("length").asLong()).isEqualTo(M);
        assertThat(map.get(0).get("zero").asBoolean()).isTrue();
        assertThat(map.get(1).get("start").asLong()).isEqualTo(M);
        assertThat(map.get(1).get("data").asBoolean()).isTrue();
        assertThat(map.get(1).get("offset").asLong()).as("file offset of a data extent").isPositive();
        assertThat(map.get(0).has("offset")).as("a hole has no file offset").isFalse();
    }

    @Test
    void mapGivesTheFileOffsetOfEachPhysicallyContiguousDataRun() throws IOException {
        Path path = dir.resolve("offsets.tm");
        int cluster = 64 * K;
        byte[] early = new byte[cluster];
        byte[] big = new byte[6 * cluster];
        new Random(21).nextBytes(early);
        new Random(22).nextBytes(big);
        try (ThinImage image = ThinImage.create(path, 16 * M, cluster, false)) {
            // Guest cluster 3 is stored first, so guest clusters 0-2 and 4-5 of the big write (which
            // overwrites cluster 3 in place) lie elsewhere.
            image.write(3L * cluster, ByteBuffer.wrap(early), false);
            image.write(0, ByteBuffer.wrap(big), false);
            image.writeZeroes(8L * cluster, cluster, io.tidemark.image.ZeroMode.NO_HOLE, false);
        }
        byte[] file = Files.readAllBytes(path);

        JsonNode map = json("image", "map", path, "--json");
        long[][] expected = {{0, 3}, {3, 1}, {4, 2}};
        for (int i = 0; i < expected.length; i++) {
            JsonNode entry = map.get(i);
            long start = expected[i][0] * cluster;
            int length = (int) (expected[i][1] * cluster);
            assertThat(entry.get("start").asLong()).as("entry %d", i).isEqualTo(start);
            assertThat(entry.get("length").asLong()).as("entry %d", i).isEqualTo(length);
            assertThat(entry.get("data").asBoolean()).isTrue();
            int offset = Math.toIntExact(entry.get("offset").asLong());
            assertThat(Arrays.copyOfRange(file, offset, offset + length)).as("the file holds entry %d's data at its offset", i)
                    .isEqualTo(Arrays.copyOfRange(big, (int) start, (int) start + length));
        }
        assertThat(map.get(0).get("offset").asLong()).isNotEqualTo(map.get(1).get("offset").asLong() - 3L * cluster);
        JsonNode zero = map.get(4);
        assertThat(zero.get("start").asLong()).isEqualTo(8L * cluster);
        assertThat(zero.get("zero").asBoolean()).isTrue();
        assertThat(zero.has("offset")).as("zero extents have no file offset").isFalse();

        assertThat(run("image", "map", path)).isZero();
        assertThat(cli.out()).containsPattern("\\n0 +196608 +data +" + map.get(0).get("offset").asLong() + "\\n");
    }

    @Test
    void convertWithLz4StoresCompressibleClustersCompressed() throws IOException {
        Path raw = sparseRaw("text.raw", 1);
        Path plain = dir.resolve("plain.tm");
        Path packed = dir.resolve("packed.tm");
        assertThat(run("image", "convert", raw, plain)).isZero();
        assertThat(run("image", "convert", raw, packed, "--compress", "lz4")).isZero();
        JsonNode packedInfo = json("image", "info", packed, "--json");
        assertThat(packedInfo.get("compression-ratio").asDouble()).isGreaterThan(2.0);
        assertThat(Files.size(packed)).isLessThan(Files.size(plain));
        Path back = dir.resolve("back.raw");
        assertThat(run("image", "convert", packed, back, "-O", "raw")).isZero();
        assertThat(Files.readAllBytes(back)).isEqualTo(Files.readAllBytes(raw));
    }

    @Test
    void convertThinToThinKeepsTheBytes() throws IOException {
        Path raw = sparseRaw("src.raw", 2);
        Path first = dir.resolve("a.tm");
        Path second = dir.resolve("b.tm");
        Path back = dir.resolve("b.raw");
        assertThat(run("image", "convert", raw, first, "--compress", "lz4")).isZero();
        assertThat(run("image", "convert", first, second, "--cluster-size", "4K")).isZero();
        assertThat(json("image", "info", second, "--json").get("cluster-size").asInt()).isEqualTo(4 * K);
        assertThat(run("image", "convert", second, back, "-O", "raw")).isZero();
        assertThat(Files.readAllBytes(back)).isEqualTo(Files.readAllBytes(raw));
    }

    @Test
    void checkFindsLeakedSpaceAndRepairRemovesIt() throws IOException {
        Path path = dir.resolve("leak.tm");
        assertThat(run("image", "create", path, "--size", "1G")).isZero();
        long size = Files.size(path);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size + 128 * K);
        }
        assertThat(run("image", "check", path)).isEqualTo(3);
        assertThat(cli.out()).contains("leak: offset " + size).contains("1 leak(s) of 128 KiB");
        JsonNode report = json0("image", "check", path, "--json");
        assertThat(report.get("leaked-bytes").asLong()).isEqualTo(128 * K);
        assertThat(report.get("leaks").get(0).get("offset").asLong()).isEqualTo(size);

        assertThat(run("image", "check", path, "--repair")).isZero();
        assertThat(cli.out()).contains("repaired:").contains("no errors found");
        assertThat(Files.size(path)).isEqualTo(size);
        assertThat(run("image", "check", path)).isZero();
    }

    @Test
    void checkReportsCorruptionWithExitTwo() throws IOException {
        Path path = dir.resolve("bad.tm");
        assertThat(run("image", "create", path, "--size", "1G")).isZero();
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            // Both header slots: the first at 0, the second at 2048; damage the virtual size field.
            for (long slot : new long[] {0, 2048}) {
                file.seek(slot + 24);
                file.write(new byte[] {(byte) 0xff, 0x13, 0x37});
            }
        }
        assertThat(run("image", "check", path)).isEqualTo(2);
        assertThat(cli.out()).contains("corrupt: ").contains("corruption(s) found");
        assertThat(run("image", "info", path)).isEqualTo(1);
        assertThat(cli.err()).contains("bad.tm");
    }

    @Test
    void resizeGrowsAThinImageAndRefusesToShrink() throws IOException {
        Path path = dir.resolve("grow.tm");
        assertThat(run("image", "create", path, "--size", "1G")).isZero();
        assertThat(run("image", "resize", path, "--size", "3T")).isZero();
        assertThat(json("image", "info", path, "--json").get("virtual-size").asLong()).isEqualTo(3L << 40);
        assertThat(run("image", "resize", path, "--size", "1G")).isEqualTo(1);
        assertThat(cli.err()).contains("cannot shrink");
        assertThat(run("image", "check", path)).isZero();
    }

    @Test
    void compactShrinksAThinImageAfterTrims() throws IOException {
        Path path = dir.resolve("compact.tm");
        byte[] data = new byte[4 * M];
        new Random(3).nextBytes(data);
        try (ThinImage image = ThinImage.create(path, 64 * M, 64 * K, false)) {
            image.write(0, ByteBuffer.wrap(data), false);
            image.write(32 * M, ByteBuffer.wrap(data, 0, M), false);
            image.flush();
            image.trim(0, 4 * M, false);
        }
        long before = Files.size(path);
        assertThat(run("image", "compact", path)).as(cli::err).isZero();
        assertThat(cli.out()).contains("reclaimed");
        assertThat(Files.size(path)).isLessThan(before).isLessThan(2 * M);
        assertThat(run("image", "check", path)).isZero();
        try (ThinImage image = ThinImage.open(path, true, AllocationListener.NONE)) {
            ByteBuffer buffer = ByteBuffer.allocate(M);
            image.read(32 * M, buffer);
            assertThat(buffer.array()).isEqualTo(Arrays.copyOf(data, M));
        }
    }

    @Test
    void anImageOpenForWritingIsRefused() throws IOException {
        Path path = dir.resolve("busy.tm");
        try (ThinImage server = ThinImage.create(path, 64 * M, 64 * K, false)) {
            assertThat(run("image", "resize", path, "--size", "1G")).isEqualTo(1);
            assertThat(cli.err()).contains("busy.tm").contains("locked");
            assertThat(run("image", "compact", path)).isEqualTo(1);
            assertThat(server.size()).isEqualTo(64 * M);
        }
    }

    @Test
    void forceShareInspectsAnImageAServerHoldsOpen() throws IOException {
        Path path = dir.resolve("served.tm");
        try (ThinImage server = ThinImage.create(path, 64 * M, 64 * K, false)) {
            server.write(M, ByteBuffer.wrap(new byte[2 * 64 * K]), false);
            server.flush();
            assertThat(run("image", "info", path)).isEqualTo(1);
            assertThat(cli.err()).contains("locked");
            assertThat(run("image", "check", path)).isEqualTo(1);
            assertThat(cli.err()).contains("locked");

            JsonNode info = json("image", "info", path, "--force-share", "--json");
            assertThat(info.get("allocated").asLong()).as("the flushed writes").isEqualTo(2 * 64 * K);
            assertThat(info.get("clean").asBoolean()).as("a server has it open").isFalse();
            assertThat(cli.err()).contains("warning", "served.tm", "--force-share", "inconsistent");

            // Open for writing, the image is dirty: unreferenced space is reported as leaks, not corruption.
            int exit = run("image", "check", path, "-U");
            assertThat(exit).as(cli::out).isIn(0, 3);
            assertThat(cli.err()).contains("warning");

            JsonNode map = json("image", "map", path, "-U", "--json");
            assertThat(map.get(1).get("start").asLong()).isEqualTo(M);
            assertThat(map.get(1).get("data").asBoolean()).isTrue();

            assertThat(run("image", "check", path, "-U", "--repair")).isEqualTo(1);
            assertThat(cli.err()).contains("--repair", "--force-share");
            server.write(0, ByteBuffer.wrap(new byte[] {1}), false);
        }
        assertThat(run("image", "check", path)).as("the server's close left it clean").isZero();
    }

    /** Runs a command whose exit code is not zero by design and parses its JSON. */
    private JsonNode json0(Object... args) throws IOException {
        run(args);
        return JSON.readTree(cli.out());
    }
}
