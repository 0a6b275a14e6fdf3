package io.tidemark.threshold;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Writes one JSON line per event to a file (appending) or to standard output. */
public final class LogSink implements EventSink, Closeable {

    private final OutputStream out;
    private final boolean owned;

    private LogSink(OutputStream out, boolean owned) {
        this.out = out;
        this.owned = owned;
    }

    public static LogSink toFile(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return new LogSink(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE), true);
    }

    public static LogSink toStream(PrintStream stream) {
        return new LogSink(stream, false);
    }

    /** {@code -} means standard output, anything else a file. */
    public static LogSink open(String target) throws IOException {
        return "-".equals(target) ? toStream(System.out) : toFile(Path.of(target));
    }

    @Override
    public synchronized void accept(ThresholdEvent event) {
        byte[] line = (EventCodec.toJson(event) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            out.write(line);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write event log: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (owned) {
            out.close();
        } else {
            out.flush();
        }
    }
}
