package io.tidemark.server.cli.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ExtentWalk;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.server.cli.InProcessCli;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code tidemark image …} in-process on raw files and checks output, files and exit codes. */
class ImageCommandTest {

    private static final int K = 1024;
    private static final int M = K * K;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final InProcessCli cli = new InProcessCli();

    private int run(Object... args) {
        return cli.run(args);
    }

    /** A 4 MiB sparse raw file with random data at 256K (8K long) and 3M (64K long). */
    private Path sparseRaw(String name) throws IOException {
        Path path = dir.resolve(name);
        Random random = new Random(7);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(4 * M);
            byte[] data = new byte[64 * K];
            random.nextBytes(data);
            file.seek(256 * K);
            file.write(data, 0, 8 * K);
            file.seek(3 * M);
            file.write(data);
        }
        return path;
    }

    private static List<Extent> extents(Path path) throws IOException {
        List<Extent> extents = new ArrayList<>();
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            ExtentWalk.walk(device, extents::add);
        }
        return extents;
    }

    private static long dataBytes(Path path) throws IOException {
        return extents(path).stream().filter(e -> e.type() == ExtentType.DATA).mapToLong(Extent::length).sum();
    }

    @Test
    void imageAloneListsItsCommands() {
        assertThat(run("image")).isZero();
        assertThat(cli.out()).contains("create", "info", "check", "map", "convert", "resize", "compact");
    }

    @Test
    void createRawMakesAHoleOfTheSize() throws IOException {
        Path path = dir.resolve("new.raw");
        assertThat(run("image", "create", path, "--size", "10M", "-O", "raw")).isZero();
        assertThat(cli.out()).contains("created").contains("10 MiB");
        assertThat(Files.size(path)).isEqualTo(10 * M);
        assertThat(extents(path)).containsExactly(new Extent(0, 10 * M, ExtentType.HOLE));
    }

    @Test
    void createRefusesAnExistingFileAndLeavesIt() throws IOException {
        Path path = Files.write(dir.resolve("taken.raw"), new byte[] {1, 2, 3});
        assertThat(run("image", "create", path, "--size", "1M", "-O", "raw")).isEqualTo(1);
        assertThat(cli.err()).contains("taken.raw").contains("already exists");
        assertThat(Files.readAllBytes(path)).containsExactly(1, 2, 3);
    }

    @Test
    void badArgumentsAreUsageErrorsNamingTheProblem() {
        Path path = dir.resolve("x.raw");
        assertThat(run("image", "create", path, "--size", "ten")).isEqualTo(2);
        assertThat(cli.err()).contains("--size").contains("not a size");
        assertThat(run("image", "create", path, "--size", "1M", "-O", "qcow2")).isEqualTo(2);
        assertThat(cli.err()).contains("unknown format 'qcow2'");
        assertThat(run("image", "create", path, "--size", "1M", "-O", "raw", "--compress", "lz4")).isEqualTo(2);
        assertThat(cli.err()).contains("tidemark images only");
        assertThat(run("image", "convert", path, dir.resolve("y"), "--compress", "zstd")).isEqualTo(2);
        assertThat(cli.err()).contains("unknown compression 'zstd'");
        assertThat(path).doesNotExist();
    }

    @Test
    void infoOfARawFile() throws IOException {
        Path path = sparseRaw("info.raw");
        assertThat(run("image", "info", path, "--json")).isZero();
        JsonNode info = JSON.readTree(cli.out());
        assertThat(info.get("format").asText()).isEqualTo("raw");
        assertThat(info.get("filename").asText()).isEqualTo(path.toString());
        assertThat(info.get("virtual-size").asLong()).isEqualTo(4 * M);
        assertThat(info.get("physical-size").asLong()).isEqualTo(4 * M);
        assertThat(info.get("allocated").asLong()).isEqualTo(72 * K);
        assertThat(info.has("clean")).as("raw files have no clean flag").isFalse();

        assertThat(run("image", "info", path)).isZero();
        assertThat(cli.out()).contains("format:        raw", "virtual size:  4 MiB (4194304 bytes)",
                "allocated:     72 KiB (73728 bytes)");
    }

    @Test
    void mapOfARawFileInQemuShape() throws IOException {
        Path path = sparseRaw("map.raw");
        assertThat(run("image", "map", path, "--json")).isZero();
        JsonNode map = JSON.readTree(cli.out());
        assertThat(map.size()).isEqualTo(5);
        long expectedStart = 0;
        for (JsonNode entry : map) {
            assertThat(entry.get("start").asLong()).isEqualTo(expectedStart);
            assertThat(entry.get("depth").asInt()).isZero();
            assertThat(entry.get("zero").asBoolean()).isNotEqualTo(entry.get("data").asBoolean());
            assertThat(entry.get("offset").asLong()).as("raw: file offset = guest offset").isEqualTo(expectedStart);
            expectedStart += entry.get("length").asLong();
        }
        assertThat(expectedStart).isEqualTo(4 * M);
        JsonNode data = map.get(1);
        assertThat(data.get("start").asLong()).isEqualTo(256 * K);
        assertThat(data.get("length").asLong()).isEqualTo(8 * K);
        assertThat(data.get("present").asBoolean()).isTrue();
        assertThat(data.get("data").asBoolean()).isTrue();
        assertThat(map.get(0).get("present").asBoolean()).as("a hole in a raw file, as qemu-img has it").isTrue();
        assertThat(map.get(0).get("zero").asBoolean()).isTrue();

        assertThat(run("image", "map", path)).isZero();
        assertThat(cli.out().lines()).hasSize(6);
        assertThat(cli.out()).containsPattern("262144 +8192 +data +262144")
                .containsPattern("\\n0 +262144 +zero +0");
    }

    @Test
    void checkOfARawFileIsClean() throws IOException {
        Path path = sparseRaw("check.raw");
        assertThat(run("image", "check", path)).isZero();
        assertThat(cli.out()).contains("no errors found");
        assertThat(run("image", "check", path, "--json")).isZero();
        JsonNode report = JSON.readTree(cli.out());
        assertThat(report.get("corruptions")).isEmpty();
        assertThat(report.get("leaks")).isEmpty();
    }

    @Test
    void aFileInUseForWritingIsRefused() throws IOException {
        Path path = sparseRaw("busy.raw");
        try (RawFileDevice server = RawFileDevice.open(path, false)) {
            assertThat(run("image", "info", path)).isEqualTo(1);
            assertThat(cli.err()).contains("busy.raw").contains("locked");
            assertThat(run("image", "resize", path, "--size", "8M")).isEqualTo(1);
            assertThat(server.size()).isEqualTo(4 * M);
        }
        assertThat(Files.size(path)).isEqualTo(4 * M);
    }

    @Test
    void forceShareReadsARawFileInUseForWriting() throws IOException {
        Path path = sparseRaw("served.raw");
        try (RawFileDevice server = RawFileDevice.open(path, false)) {
            assertThat(run("image", "info", path, "-U", "--json")).as(cli::err).isZero();
            assertThat(JSON.readTree(cli.out()).get("virtual-size").asLong()).isEqualTo(4 * M);
            assertThat(cli.err()).contains("warning", "served.raw", "--force-share", "inconsistent");
            assertThat(run("image", "check", path, "--force-share")).as(cli::err).isZero();
            assertThat(run("image", "map", path, "-U", "--json")).as(cli::err).isZero();
            assertThat(JSON.readTree(cli.out()).get(1).get("start").asLong()).isEqualTo(256 * K);
            server.write(0, java.nio.ByteBuffer.wrap(new byte[] {1}), false);
        }
    }

    @Test
    void missingFileIsAnErrorNamingIt() {
        assertThat(run("image", "info", dir.resolve("absent.raw"))).isEqualTo(1);
        assertThat(cli.err()).contains("absent.raw");
    }

    @Test
    void convertRawToRawKeepsBytesAndHoles() throws IOException {
        Path source = sparseRaw("src.raw");
        // Zeroes written as data: the copy leaves them out.
        try (RandomAccessFile file = new RandomAccessFile(source.toFile(), "rw")) {
            file.seek(M);
            file.write(new byte[128 * K]);
        }
        assertThat(dataBytes(source)).isEqualTo(200 * K);
        Path target = dir.resolve("dst.raw");
        assertThat(run("image", "convert", source, target, "-O", "raw")).isZero();
        assertThat(cli.out()).contains("72 KiB (73728 bytes) of data written");
        assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(source));
        assertThat(dataBytes(target)).isEqualTo(72 * K);
        assertThat(extents(target)).startsWith(
                new Extent(0, 256 * K, ExtentType.HOLE), new Extent(256 * K, 8 * K, ExtentType.DATA));
        assertThat(cli.err()).as("no progress when not on a terminal").isEmpty();
    }

    @Test
    void convertNeverOverwritesAnExistingTarget() throws IOException {
        Path source = sparseRaw("src.raw");
        Path target = Files.write(dir.resolve("keep.raw"), new byte[] {9});
        assertThat(run("image", "convert", source, target, "-O", "raw")).isEqualTo(1);
        assertThat(cli.err()).contains("keep.raw").contains("already exists");
        assertThat(Files.readAllBytes(target)).containsExactly(9);
    }

    @Test
    void resizeGrowsARawFileByAHoleAndRefusesToShrink() throws IOException {
        Path path = sparseRaw("grow.raw");
        byte[] before = Files.readAllBytes(path);
        assertThat(run("image", "resize", path, "--size", "1G")).isZero();
        assertThat(Files.size(path)).isEqualTo(1L << 30);
        assertThat(dataBytes(path)).isEqualTo(72 * K);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r")) {
            byte[] head = new byte[before.length];
            file.readFully(head);
            assertThat(head).isEqualTo(before);
        }
        assertThat(run("image", "resize", path, "--size", "1M")).isEqualTo(1);
        assertThat(cli.err()).contains("cannot shrink");
        assertThat(Files.size(path)).isEqualTo(1L << 30);
    }

    @Test
    void compactPunchesOutZeroBlocksOfARawFile() throws IOException {
        Path path = sparseRaw("compact.raw");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.seek(2 * M);
            file.write(new byte[256 * K]);
        }
        byte[] before = Files.readAllBytes(path);
        assertThat(dataBytes(path)).isEqualTo(328 * K);
        assertThat(run("image", "compact", path)).isZero();
        assertThat(cli.out()).contains("256 KiB (262144 bytes) reclaimed");
        assertThat(dataBytes(path)).isEqualTo(72 * K);
        assertThat(Files.readAllBytes(path)).isEqualTo(before);
    }
}
