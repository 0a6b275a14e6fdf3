package io.tidemark.server.cli.image;

import java.io.Console;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * A one-line progress display for long work, redrawn in place on a terminal at most a few times a
 * second. When output is not a terminal (piped, redirected, in tests) it prints nothing, so
 * scripts see only the result.
 */
final class Progress implements LongConsumer, AutoCloseable {

    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final String label;
    private final long total;
    private final boolean visible;
    private long lastDrawn;
    private long done;
    private boolean drawn;

    Progress(PrintWriter out, String label, long total, boolean visible) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.visible = visible;
    }

    /** Progress shown on {@code out} only when the process runs on a terminal. */
    static Progress onTerminal(PrintWriter out, String label, long total) {
        Console console = System.console();
        return new Progress(out, label, total, console != null && console.isTerminal());
    }

    /** Records that {@code position} of {@code total} bytes are done. */
    @Override
    public void accept(long position) {
        done = Math.max(done, position);
        if (!visible) {
            return;
        }
        long now = System.nanoTime();
        if (!drawn || now - lastDrawn >= REDRAW_NANOS) {
            draw();
            lastDrawn = now;
        }
    }

    /** Draws the final state and ends the line. */
    @Override
    public void close() {
        if (visible) {
            draw();
            out.println();
            out.flush();
        }
    }

    private void draw() {
        double percent = total == 0 ? 100 : 100.0 * Math.min(done, total) / total;
        out.printf(Locale.ROOT, "\r%s: %5.1f%% (%s of %s)", label, percent, HumanSize.of(done), HumanSize.of(total));
        out.flush();
        drawn = true;
    }
}
