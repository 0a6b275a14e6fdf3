package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The Linux kernel client's userspace handshake (nbd-client -l) lists our exports; no nbd module needed. */
class NbdClientListIT {

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void listsEveryExport() throws Exception {
        NbdServer server = servers.start(
                Export.writable("alpha", TestImages.sparse(dir.resolve("a.raw"), MIB)),
                Export.writable("beta", TestImages.sparse(dir.resolve("b.raw"), 2 * MIB)),
                Export.writable("gamma", TestImages.sparse(dir.resolve("c.raw"), 3 * MIB)));

        Client.Result result = Client.run("nbd-client", "-l", "127.0.0.1", Integer.toString(server.port()))
                .assertSuccess();

        // One line per export: "NAME" or "NAME: DESCRIPTION", after a "Negotiation: .." line.
        List<String> names = Arrays.stream(result.stdout().split("\n"))
                .filter(line -> !line.isBlank() && !line.startsWith("Negotiation"))
                .map(line -> line.split(":", 2)[0].trim())
                .toList();
        assertThat(names).as(result.describe("listed")).containsExactlyInAnyOrder("alpha", "beta", "gamma");
    }
}
