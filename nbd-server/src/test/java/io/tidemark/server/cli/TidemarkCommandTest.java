package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TidemarkCommandTest {

    private final StringWriter out = new StringWriter();

    private int run(String... args) {
        CommandLine cli = TidemarkCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        return cli.execute(args);
    }

    @Test
    void versionComesFromTheBuild() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).matches("tidemark \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\R");
    }

    @Test
    void helpListsTheCommands() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("Usage: tidemark").contains("help");
    }
}
