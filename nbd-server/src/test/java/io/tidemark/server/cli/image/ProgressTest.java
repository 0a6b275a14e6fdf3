package io.tidemark.server.cli.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void onATerminalItRedrawsOneLineAndEndsIt() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), "converting", 4L << 20, true)) {
            progress.accept(1L << 20);
            progress.accept(4L << 20);
        }
        assertThat(text.toString()).startsWith("\rconverting:  25.0% (1 MiB of 4 MiB)")
                .endsWith("\rconverting: 100.0% (4 MiB of 4 MiB)" + System.lineSeparator());
    }

    @Test
    void elsewhereItPrintsNothing() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), "converting", 100, false)) {
            progress.accept(50);
        }
        assertThat(text.toString()).isEmpty();
    }

    @Test
    void anEmptyJobIsComplete() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), "checking", 0, true)) {
            progress.accept(0);
        }
        assertThat(text.toString()).contains("100.0%");
    }
}
