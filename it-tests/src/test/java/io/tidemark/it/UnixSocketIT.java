package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The same exports over a Unix socket ({@code serve --unix PATH}), as local VMs connect. */
class UnixSocketIT {

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void clientsReadAndWriteOverTheUnixSocket() throws Exception {
        Path image = TestImages.sparse(dir.resolve("disk.raw"), 16 * MIB);
        Path source = TestImages.sparse(dir.resolve("source.raw"), 16 * MIB);
        TestImages.fillRandom(source, 2 * MIB, 3 * (int) MIB, new Random(41));
        NbdServer server = servers.startWithUnixSocket(Export.writable("disk", image));

        String size = Client.run("nbdinfo", "--size", server.unixUri("disk")).assertSuccess().stdout().trim();
        Client.run("nbdcopy", source.toString(), server.unixUri("disk")).assertSuccess();
        Client.run("qemu-io", "-f", "raw", server.unixUri("disk"), "-c", "read -P 0 0 2M", "-c", "flush")
                .assertSuccess();

        assertThat(Long.parseLong(size)).isEqualTo(16 * MIB);
        TestImages.assertSameBytes(source, image);
    }
}
