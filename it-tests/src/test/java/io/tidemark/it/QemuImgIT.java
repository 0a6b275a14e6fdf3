package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** QEMU's block layer (qemu-img) reads our exports' geometry and moves whole images in and out. */
class QemuImgIT {

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void infoShowsTheExportAsARawDiskOfItsSize() throws Exception {
        NbdServer server = servers.start(Export.writable("disk", TestImages.sparse(dir.resolve("d.raw"), 48 * MIB)));

        JsonNode info = new ObjectMapper().readTree(
                Client.run("qemu-img", "info", "--output=json", server.uri("disk")).assertSuccess().stdout());

        assertThat(info.get("virtual-size").asLong()).isEqualTo(48 * MIB);
        assertThat(info.get("format").asText()).isEqualTo("raw");
    }

    @Test
    void convertFromARawFileIntoTheExportAndBackOutKeepsEveryByte() throws Exception {
        Path source = TestImages.sparse(dir.resolve("source.raw"), 32 * MIB);
        Random random = new Random(17);
        TestImages.fillRandom(source, 0, (int) MIB, random);
        TestImages.fillRandom(source, 3 * MIB + 512, 70_000, random);
        TestImages.fillRandom(source, 20 * MIB, 4 * (int) MIB, random);
        TestImages.fillRandom(source, 32 * MIB - 512, 512, random);
        Path exported = TestImages.sparse(dir.resolve("exported.raw"), 32 * MIB);
        Path back = dir.resolve("back.raw");
        NbdServer server = servers.start(Export.writable("disk", exported));

        // -W: out-of-order writes from 8 coroutines, so requests overlap on the connection.
        Client.run("qemu-img", "convert", "-n", "-W", "-m", "8", "-f", "raw", "-O", "raw", source.toString(),
                server.uri("disk")).assertSuccess();
        Client.run("qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), server.uri("disk"))
                .assertSuccess();
        Client.run("qemu-img", "convert", "-f", "raw", "-O", "raw", server.uri("disk"), back.toString())
                .assertSuccess();

        TestImages.assertSameBytes(source, exported);
        TestImages.assertSameBytes(source, back);
    }
}
