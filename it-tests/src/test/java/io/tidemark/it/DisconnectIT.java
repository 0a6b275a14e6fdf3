package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD_CMD_DISC behind writes still in flight, sent by libnbd, which then half-closes its socket:
 * the server answers every write before it closes (spec: "MUST handle all outstanding requests";
 * issue 4: "finish in-flight requests, then close"). Assertions are in
 * src/test/resources/nbdsh/disconnect.py.
 */
class DisconnectIT {

    private static final int ESHUTDOWN = 108;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void writesInFlightAtDisconnectAreAllAnsweredBeforeTheServerCloses() throws Exception {
        NbdServer server = servers.start(Export.writable("disk", TestImages.sparse(dir.resolve("d.raw"), 16 * MIB)));

        Client.Result result = NbdshScript.named("disconnect.py")
                .with("uri", server.uri("disk"))
                // nbdkit answers writes it has not started with ESHUTDOWN; tidemark finishes them.
                .withNumbers("answered_ok", servers.kind() == ServerKind.TIDEMARK ? List.of(0) : List.of(0, ESHUTDOWN))
                .run();

        assertThat(result.stdout()).contains("ok: attempt 1", "ok: attempt 2", "ok: attempt 3");
    }
}
