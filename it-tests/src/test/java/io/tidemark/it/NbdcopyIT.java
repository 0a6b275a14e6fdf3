package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** nbdcopy copies sparse images out of and into an export; holes stay holes both ways. */
class NbdcopyIT {

    private static final long SIZE = 64 * MIB;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void copyOutOfTheExportKeepsBytesAndHoles() throws Exception {
        Path image = sparseImageWithData(dir.resolve("exported.raw"));
        Path copy = dir.resolve("copy.raw");
        NbdServer server = servers.start(Export.writable("disk", image));

        Client.run("nbdcopy", server.uri("disk"), copy.toString()).assertSuccess();
        server.close();

        TestImages.assertSameBytes(image, copy);
        assertThat(ImageTool.map(copy)).isEqualTo(ImageTool.map(image));
    }

    @Test
    void copyIntoTheExportKeepsBytesAndHoles() throws Exception {
        Path source = sparseImageWithData(dir.resolve("source.raw"));
        Path image = TestImages.sparse(dir.resolve("exported.raw"), SIZE);
        NbdServer server = servers.start(Export.writable("disk", image));

        Client.run("nbdcopy", source.toString(), server.uri("disk")).assertSuccess();
        ExtentMap overNbd = ExtentMap.fromNbdinfo(Client.run("nbdinfo", "--map", "--json", server.uri("disk"))
                .assertSuccess().stdout());
        server.close();

        TestImages.assertSameBytes(source, image);
        ExtentMap written = ImageTool.map(image);
        assertThat(written).isEqualTo(ImageTool.map(source));
        assertThat(overNbd).isEqualTo(written);
    }

    /** 64 MiB with 6 MiB of data in runs of different sizes and alignments; the rest is hole. */
    private static Path sparseImageWithData(Path path) throws Exception {
        TestImages.sparse(path, SIZE);
        Random random = new Random(23);
        TestImages.fillRandom(path, MIB, (int) MIB, random);
        TestImages.fillRandom(path, 10 * MIB, 4 * (int) MIB, random);
        TestImages.fillRandom(path, 30 * MIB + 64 * 1024, 64 * 1024, random);
        TestImages.fillRandom(path, 40 * MIB, (int) MIB - 4096, random);
        TestImages.fillRandom(path, SIZE - 64 * 1024, 64 * 1024, random);
        return path;
    }
}
