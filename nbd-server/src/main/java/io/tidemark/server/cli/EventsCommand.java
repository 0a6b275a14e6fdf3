package io.tidemark.server.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tidemark events [EXPORT]}: follows the event stream, one JSON line per event. */
@Command(name = "events", description = "Follow threshold events as they happen, one JSON line each.")
public final class EventsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ControlOptions control;

    @Parameters(index = "0", arity = "0..1", paramLabel = "EXPORT", description = "Only this export's events.")
    String export;

    @Option(names = "--count", paramLabel = "N", description = "Exit after N events.")
    Integer count;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String path = "/events" + (export == null ? "" : "?export=" + ControlClient.segment(export));
        int[] seen = {0};
        control.client().stream(path, data -> {
            out.println(data);
            out.flush();
            seen[0]++;
            return count == null || seen[0] < count;
        });
        if (count == null || seen[0] < count) {
            throw new IOException("the server closed the event stream after " + seen[0] + " events");
        }
        return 0;
    }
}
