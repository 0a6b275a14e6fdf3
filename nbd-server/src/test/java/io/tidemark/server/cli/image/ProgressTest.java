package io.tidemark.server.cli.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void onATerminalItRedrawsOneLineAndEndsIt() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), "converting", Progress.Unit.BYTES, true)) {
            var toward = progress.toward(4L << 20);
            toward.accept(1L << 20);
            toward.accept(4L << 20);
        }
        assertThat(text.toString()).startsWith("\rconverting:  25.0% (1 MiB of 4 MiB)")
                .endsWith("\rconverting: 100.0% (4 MiB of 4 MiB)" + System.lineSeparator());
    }

    @Test
    void clustersAreCountedNotSized() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), "compacting", Progress.Unit.CLUSTERS, true)) {
            progress.update(3, 12);
        }
        assertThat(text.toString()).contains("compacting:  25.0% (3 of 12 clusters)");
    }

    @Test
    void elsewhereItPrintsNothing() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), "converting", Progress.Unit.BYTES, false)) {
            progress.update(50, 100);
        }
        assertThat(text.toString()).isEmpty();
    }

    @Test
    void anEmptyJobIsComplete() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), "checking", Progress.Unit.CLUSTERS, true)) {
            progress.update(0, 0);
        }
        assertThat(text.toString()).contains("100.0%");
    }
}
