package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The option phase driven by libnbd in option mode (nbdsh): STRUCTURED_REPLY, LIST,
 * LIST_META_CONTEXT, INFO of an unknown then a known export, GO, ABORT, a refused STARTTLS,
 * and — by hand, since libnbd cannot send them — an unknown option and EXPORT_NAME.
 * The script's assertions are in src/test/resources/nbdsh/option-phase.py.
 */
class NbdshOptionPhaseIT {

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void everyOptionIsAnsweredAndTheHandshakeGoesOn() throws Exception {
        NbdServer server = servers.start(
                Export.writable("disk", TestImages.sparse(dir.resolve("disk.raw"), 8 * MIB)),
                Export.writable("spare", TestImages.sparse(dir.resolve("spare.raw"), MIB)));

        Client.Result result = NbdshScript.named("option-phase.py")
                .with("uri", server.uri("disk"))
                .with("port", server.port())
                .with("export", "disk")
                .with("size", 8 * MIB)
                .withStrings("exports", List.of("disk", "spare"))
                .run();

        assertThat(result.stdout()).contains(
                "ok: STRUCTURED_REPLY", "ok: LIST", "ok: LIST_META_CONTEXT", "ok: INFO of an unknown export refused",
                "ok: INFO disk", "ok: GO", "ok: ABORT", "ok: STARTTLS refused",
                "ok: unknown option answered NBD_REP_ERR_UNSUP", "ok: LIST after the unknown option",
                "ok: EXPORT_NAME", "ok: DISC closes");
    }
}
