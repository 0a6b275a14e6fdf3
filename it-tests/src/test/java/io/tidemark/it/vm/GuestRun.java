package io.tidemark.it.vm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one guest boot printed. The guest reports on its serial console with lines
 * {@code TIDEMARK <key> <value>}; {@code TIDEMARK exit <status>} is the last thing /init prints
 * before it powers the machine off.
 */
record GuestRun(String scenario, int qemuExitCode, Duration wallTime, String console, List<Marker> markers) {

    static final String MARKER_PREFIX = "TIDEMARK ";
    private static final int CONSOLE_TAIL_LINES = 60;

    /** One result line. */
    record Marker(String key, String value) {
    }

    static GuestRun parse(String scenario, int qemuExitCode, Duration wallTime, String console) {
        List<Marker> markers = new ArrayList<>();
        for (String rawLine : console.split("\n")) {
            String line = rawLine.strip();
            int at = line.indexOf(MARKER_PREFIX);
            if (at < 0) {
                continue;
            }
            String rest = line.substring(at + MARKER_PREFIX.length()).strip();
            int space = rest.indexOf(' ');
            markers.add(space < 0 ? new Marker(rest, "") : new Marker(rest.substring(0, space), rest.substring(space + 1).strip()));
        }
        return new GuestRun(scenario, qemuExitCode, wallTime, console, List.copyOf(markers));
    }

    /** The value of the last marker named {@code key}. */
    Optional<String> marker(String key) {
        return markers.reversed().stream().filter(m -> m.key().equals(key)).map(Marker::value).findFirst();
    }

    /** The value of the last marker named {@code key}, or a failure that shows the console. */
    String required(String key) {
        return marker(key).orElseThrow(() -> failure("the guest printed no '" + MARKER_PREFIX + key + "' line"));
    }

    /** This run, if the guest's script ran to its end with status 0 and QEMU exited cleanly. */
    GuestRun assertSucceeded() {
        String exit = marker("exit").orElseThrow(() -> failure("the guest did not finish its script"));
        if (!exit.equals("0")) {
            throw failure("the guest's script failed with status " + exit);
        }
        if (qemuExitCode != 0) {
            throw failure("QEMU exited with status " + qemuExitCode);
        }
        return this;
    }

    AssertionError failure(String what) {
        List<String> lines = List.of(console.split("\n"));
        List<String> tail = lines.subList(Math.max(0, lines.size() - CONSOLE_TAIL_LINES), lines.size());
        return new AssertionError(scenario + ": " + what + "\n---- guest console (last " + tail.size()
                + " lines) ----\n" + String.join("\n", tail) + "\n---- end of console (whole consoles and server logs: "
                + "it-tests/target/vm-logs/) ----");
    }
}
