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
final class Progress implements AutoCloseable {

    /** What is being counted. */
    enum Unit {
        BYTES, CLUSTERS, TABLES;

        String describe(long done, long total) {
            return this == BYTES
                    ? HumanSize.of(done) + " of " + HumanSize.of(total)
                    : done + " of " + total + " " + name().toLowerCase(Locale.ROOT);
        }
    }

    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final String label;
    private final Unit unit;
    private final boolean visible;
    private long lastDrawn;
    private long done;
    private long total;
    private boolean drawn;

    Progress(PrintWriter out, String label, Unit unit, boolean visible) {
        this.out = out;
        this.label = label;
        this.unit = unit;
        this.visible = visible;
    }

    /** Progress shown on {@code out} only when the process runs on a terminal. */
    static Progress onTerminal(PrintWriter out, String label, Unit unit) {
        Console console = System.console();
        return new Progress(out, label, unit, console != null && console.isTerminal());
    }

    /** Records that {@code done} of {@code total} are done. */
    void update(long done, long total) {
        this.done = Math.max(this.done, done);
        this.total = total;
        if (!visible) {
            return;
        }
        long now = System.nanoTime();
        if (!drawn || now - lastDrawn >= REDRAW_NANOS) {
            draw();
            lastDrawn = now;
        }
    }

    /** Progress toward a total known up front, as positions. */
    LongConsumer toward(long total) {
        return position -> update(position, total);
    }

    /** Draws the final state and ends the line. */
    @Override
    public void close() {
        if (visible && drawn) {
            draw();
            out.println();
            out.flush();
        }
    }

    private void draw() {
        double percent = total == 0 ? 100 : 100.0 * Math.min(done, total) / total;
        out.printf(Locale.ROOT, "\r%s: %5.1f%% (%s)", label, percent, unit.describe(done, total));
        out.flush();
        drawn = true;
    }
}
