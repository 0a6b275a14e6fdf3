package io.tidemark.server.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code tidemark events [EXPORT]}: follows the event stream, one JSON line per event. When the
 * stream ends (a server restart) it reconnects with the last event's id, so the server replays
 * what was missed meanwhile.
 */
@Command(name = "events", description = {"Follow threshold events as they happen, one JSON line each.",
    "Reconnects when the server goes away, resuming after the last event seen."})
public final class EventsCommand implements Callable<Integer> {

    static final Duration RECONNECT_DELAY = Duration.ofSeconds(1);

    @Spec
    CommandSpec spec;

    @Mixin
    ControlOptions control;

    @Parameters(index = "0", arity = "0..1", paramLabel = "EXPORT", description = "Only this export's events.")
    String export;

    @Option(names = "--count", paramLabel = "N", description = "Exit after N events.")
    Integer count;

    @Option(names = "--no-reconnect", description = "Exit with an error when the stream ends.")
    boolean noReconnect;

    private int seen;
    private String lastId;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String path = "/events" + (export == null ? "" : "?export=" + ControlClient.segment(export));
        ControlClient client = control.client();
        while (true) {
            String why;
            try {
                if (client.stream(path, lastId, event -> print(out, event))) {
                    return 0;
                }
                why = "the server ended the event stream";
            } catch (ControlClient.Refused e) {
                throw e;
            } catch (IOException e) {
                why = e.getMessage();
            }
            if (noReconnect) {
                throw new IOException(why + " after " + seen + " events");
            }
            spec.commandLine().getErr().println("tidemark events: " + why + "; reconnecting");
            Thread.sleep(RECONNECT_DELAY);
        }
    }

    private boolean print(PrintWriter out, ControlClient.StreamEvent event) {
        out.println(event.data());
        out.flush();
        lastId = event.id();
        seen++;
        return count == null || seen < count;
    }
}
