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

    @Test
    void everySubcommandAnswersHelpAndVersion() {
        assertThat(run("threshold", "set", "--help")).isZero();
        assertThat(out.toString()).contains("Usage: tidemark threshold set").contains("80%").contains("--repeat");
        out.getBuffer().setLength(0);
        assertThat(run("quota", "set", "-V")).isZero();
        assertThat(out.toString()).startsWith("tidemark ");
        out.getBuffer().setLength(0);
        assertThat(run("image", "map", "--help")).isZero();
        assertThat(out.toString()).contains("Usage: tidemark image map");
    }
}
