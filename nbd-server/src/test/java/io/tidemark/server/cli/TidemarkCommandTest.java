package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TidemarkCommandTest {

    private final InProcessCli cli = new InProcessCli();

    @Test
    void versionComesFromTheBuild() {
        assertThat(cli.run("--version")).isZero();
        assertThat(cli.out()).matches("tidemark \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\R");
    }

    @Test
    void helpListsTheCommands() {
        assertThat(cli.run("--help")).isZero();
        assertThat(cli.out()).contains("Usage: tidemark").contains("help");
    }

    @Test
    void everySubcommandAnswersHelpAndVersion() {
        assertThat(cli.run("threshold", "set", "--help")).isZero();
        assertThat(cli.out()).contains("Usage: tidemark threshold set").contains("80%").contains("--repeat");
        assertThat(cli.run("quota", "set", "-V")).isZero();
        assertThat(cli.out()).startsWith("tidemark ");
        assertThat(cli.run("image", "map", "--help")).isZero();
        assertThat(cli.out()).contains("Usage: tidemark image map");
    }
}
