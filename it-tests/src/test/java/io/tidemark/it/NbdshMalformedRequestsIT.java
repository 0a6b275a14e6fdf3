package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * libnbd with strict mode off sends requests a server must refuse: each gets the spec's errno
 * and the same connection then serves a correct read. Assertions are in
 * src/test/resources/nbdsh/malformed-requests.py.
 */
class NbdshMalformedRequestsIT {

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void malformedRequestsGetTheSpecsErrnoAndTheConnectionLives() throws Exception {
        Path image = TestImages.sparse(dir.resolve("disk.raw"), 4 * MIB);
        TestImages.fillRandom(image, 0, 4096, new Random(31));
        Path golden = TestImages.sparse(dir.resolve("golden.raw"), MIB);
        NbdServer writable = servers.start(Export.writable("disk", image));
        NbdServer readOnly = servers.start(Export.readOnly("golden", golden));
        byte[] reference = Arrays.copyOf(Files.readAllBytes(image), 4096);

        Client.Result result = NbdshScript.named("malformed-requests.py")
                .with("uri", writable.uri("disk"))
                .with("ro_uri", readOnly.uri("golden"))
                .withBytes("reference", reference)
                .run();

        assertThat(result.stdout()).contains(
                "ok: read past the end -> EINVAL",
                "ok: 64 KiB write past the end (payload consumed) -> ENOSPC",
                "ok: read with an unknown flag (0x80) -> EINVAL",
                "ok: unknown command 0x55 -> EINVAL",
                "ok: write to a read-only export -> EPERM",
                "ok: bad request magic closes the connection");
        assertThat(Files.readAllBytes(golden)).as("read-only export unchanged").containsOnly(0);
        assertThat(Arrays.copyOf(Files.readAllBytes(image), 4096)).isEqualTo(reference);
    }
}
