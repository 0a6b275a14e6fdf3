package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {

    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = TidemarkCommand.commandLine();
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void serveNeedsAnExport() {
        assertThat(run("serve")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--export=" + ExportSpec.FORMAT + "'");
    }

    @Test
    void badExportSpecIsAUsageError() {
        assertThat(run("serve", "--export", "d=x,rw")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown setting 'rw'");
    }

    @Test
    void missingImageFailsWithThePath() {
        Path missing = dir.resolve("missing.img");
        assertThat(run("serve", "--listen", "127.0.0.1:0", "--export", "d=" + missing)).isEqualTo(1);
        assertThat(err.toString()).contains(missing.toString());
    }

    @Test
    void helpListsServeAndDemo() {
        StringWriter out = new StringWriter();
        CommandLine cli = TidemarkCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        assertThat(cli.execute("--help")).isZero();
        assertThat(out.toString()).contains("serve").contains("demo");
    }
}
