package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.server.nbd.ListenAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control API runs without a token only where nobody but this host can reach it. */
class ControlAddressTest {

    @TempDir
    Path dir;

    @Test
    void loopbackNeedsNoTokenButEveryOtherAddressDoes() {
        assertThatCode(() -> ThresholdOptions.requireTokenBeyondLoopback(ListenAddress.Tcp.parse("127.0.0.1:10810"), null))
                .doesNotThrowAnyException();
        assertThatCode(() -> ThresholdOptions.requireTokenBeyondLoopback(ListenAddress.Tcp.parse("localhost:10810"), ""))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> ThresholdOptions.requireTokenBeyondLoopback(ListenAddress.Tcp.parse("0.0.0.0:10810"), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reachable from other hosts").hasMessageContaining("--control-token");
        assertThatCode(() -> ThresholdOptions.requireTokenBeyondLoopback(ListenAddress.Tcp.parse("0.0.0.0:10810"), "s3cret"))
                .doesNotThrowAnyException();
    }

    @Test
    void serveRefusesAnOpenControlApiWithoutATokenAndServesNothing() throws Exception {
        Path image = Files.write(dir.resolve("disk.raw"), new byte[1 << 16]);
        InProcessCli cli = new InProcessCli();
        int exit = cli.run("serve", "--export", "disk=" + image, "--listen", "127.0.0.1:0",
                "--control", "0.0.0.0:0", "--state-dir", dir.resolve("state").toString());
        assertThat(exit).isNotZero();
        assertThat(cli.err()).contains("--control-token");
    }
}
