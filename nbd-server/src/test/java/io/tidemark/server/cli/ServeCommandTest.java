package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeCommandTest {

    @TempDir
    Path dir;

    private final InProcessCli cli = new InProcessCli();

    @Test
    void serveNeedsAnExport() {
        assertThat(cli.run("serve")).isEqualTo(2);
        assertThat(cli.err()).contains("Missing required option: '--export=" + ExportSpec.FORMAT + "'");
    }

    @Test
    void badExportSpecIsAUsageError() {
        assertThat(cli.run("serve", "--export", "d=x,rw")).isEqualTo(2);
        assertThat(cli.err()).contains("unknown setting 'rw'");
    }

    @Test
    void missingImageFailsWithThePath() {
        Path missing = dir.resolve("missing.img");
        assertThat(cli.run("serve", "--listen", "127.0.0.1:0", "--export", "d=" + missing)).isEqualTo(1);
        assertThat(cli.err()).contains(missing.toString());
    }

    @Test
    void anExportOutsideTheImageDirectoryIsRefusedBeforeAnythingStarts() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Files.writeString(dir.resolve("secret.raw"), "x".repeat(4096));
        assertThat(cli.run("serve", "--listen", "127.0.0.1:0", "--control", "off", "--image-dir", images,
                "--export", "d=../secret.raw")).isEqualTo(1);
        assertThat(cli.err()).contains("export 'd'").contains("outside the image directory");
    }

    @Test
    void aServerWideByteLimitBelowOnePayloadIsRefused() throws Exception {
        Path image = Files.writeString(dir.resolve("disk.raw"), "x".repeat(4096));
        assertThat(cli.run("serve", "--listen", "127.0.0.1:0", "--control", "off", "--max-bytes-in-flight", "1M",
                "--export", "d=" + image)).isEqualTo(1);
        assertThat(cli.err()).contains("(1048576) must be at least the maximum payload (33554432)");
    }

    @Test
    void helpListsServeAndDemo() {
        assertThat(cli.run("--help")).isZero();
        assertThat(cli.out()).contains("serve").contains("demo");
    }
}
