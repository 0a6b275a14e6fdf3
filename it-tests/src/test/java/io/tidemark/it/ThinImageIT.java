package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * tidemark's own thin images behind an export: what clients write allocates clusters, what
 * they leave or trim stays unallocated, and {@code nbdinfo --map} over NBD equals
 * {@code tidemark image map} of the file. Only tidemark serves thin images, so against the
 * nbdkit stand-in these tests do not apply.
 */
class ThinImageIT {

    private static final long SIZE = 64 * MIB;
    private static final int CLUSTER = 64 * 1024;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @BeforeEach
    void onlyTidemarkServesThinImages() {
        assumeTrue(servers.kind() == ServerKind.TIDEMARK, "nbdkit cannot serve tidemark's thin images");
    }

    @Test
    void sparseCopyIntoAThinExportAllocatesOnlyTheDataAndReadsBackEqual() throws Exception {
        Path source = TestImages.sparse(dir.resolve("source.raw"), SIZE);
        Random random = new Random(61);
        TestImages.fillRandom(source, 0, CLUSTER, random);
        TestImages.fillRandom(source, 3 * MIB, 2 * (int) MIB, random);
        TestImages.fillRandom(source, 40 * MIB + CLUSTER, 3 * CLUSTER, random);
        Path thin = createThin(dir.resolve("disk.tdm"));
        NbdServer server = servers.start(Export.writable("disk", thin));

        Client.run("nbdcopy", source.toString(), server.uri("disk")).assertSuccess();
        ExtentMap overNbd = ExtentMap.fromNbdinfo(
                Client.run("nbdinfo", "--map", "--json", server.uri("disk")).assertSuccess().stdout());
        Path back = dir.resolve("back.raw");
        Client.run("qemu-img", "convert", "-f", "raw", "-O", "raw", server.uri("disk"), back.toString())
                .assertSuccess();
        server.close();

        TestImages.assertSameBytes(source, back);
        ExtentMap ofImage = ImageTool.map(thin);
        assertThat(overNbd).isEqualTo(ofImage);
        assertThat(ofImage.bytesOf(ExtentMap.Kind.DATA)).isEqualTo(CLUSTER + 2 * MIB + 3 * CLUSTER);
        assertThat(ofImage.isAll(ExtentMap.Kind.HOLE, 5 * MIB, 35 * MIB)).as("never written: %s", ofImage).isTrue();
        assertCheckedClean(thin);
    }

    @Test
    void trimAndWriteZeroesReleaseClustersOfAThinExport() throws Exception {
        Path thin = createThin(dir.resolve("disk.tdm"));
        NbdServer server = servers.start(Export.writable("disk", thin));

        Client.run("qemu-io", "-f", "raw", server.uri("disk"),
                "-c", "write -P 0x61 0 8M",
                "-c", "discard 1M 2M",
                "-c", "write -z 4M 1M",
                "-c", "flush",
                "-c", "read -P 0x61 0 1M",
                "-c", "read -P 0 1M 2M",
                "-c", "read -P 0x61 3M 1M",
                "-c", "read -P 0 4M 1M",
                "-c", "read -P 0x61 5M 3M").assertSuccess();
        ExtentMap overNbd = ExtentMap.fromNbdinfo(
                Client.run("nbdinfo", "--map", "--json", server.uri("disk")).assertSuccess().stdout());
        server.close();

        ExtentMap ofImage = ImageTool.map(thin);
        assertThat(overNbd).isEqualTo(ofImage);
        assertThat(ofImage.isAll(ExtentMap.Kind.DATA, 0, MIB)).as("%s", ofImage).isTrue();
        assertThat(ofImage.isAll(ExtentMap.Kind.DATA, 1 * MIB, 2 * MIB)).as("trimmed range still data: %s", ofImage)
                .isFalse();
        assertThat(ofImage.isAll(ExtentMap.Kind.DATA, 4 * MIB, MIB)).as("zeroed range still data: %s", ofImage)
                .isFalse();
        assertThat(ofImage.bytesOf(ExtentMap.Kind.DATA)).isEqualTo(5 * MIB);
        assertCheckedClean(thin);
    }

    /** After the server's graceful shutdown the image has neither corruptions nor leaked clusters. */
    private static void assertCheckedClean(Path thin) throws Exception {
        assertThat(ImageTool.check(thin)).as("tidemark image check after the server stopped")
                .isEqualTo(ImageTool.CHECK_CLEAN);
    }

    private static Path createThin(Path path) throws Exception {
        return ImageTool.createThin(path, "64M");
    }
}
