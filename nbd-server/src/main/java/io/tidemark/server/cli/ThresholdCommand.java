package io.tidemark.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.image.ByteSize;
import io.tidemark.threshold.ThresholdSetting;
import io.tidemark.threshold.ThresholdValue;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tidemark threshold set|show|clear}: high-water marks of a running server's exports. */
@Command(name = "threshold", description = "Set, show and clear an export's usage thresholds.",
        subcommands = {ThresholdCommand.Set.class, ThresholdCommand.Show.class, ThresholdCommand.Clear.class})
public final class ThresholdCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static String thresholdsPath(String export) {
        return "/exports/" + ControlClient.segment(export) + "/thresholds";
    }

    @Command(name = "set", description = "Arm a threshold: an event fires once when the export's usage exceeds"
            + " VALUE, then the threshold is cleared until set again (QEMU's block-set-write-threshold). With"
            + " --repeat it re-arms itself SIZE above the mark it fired at. A usage already beyond VALUE fires at"
            + " once. VALUE 0 disarms.")
    static final class Set implements Callable<Integer> {
        @Mixin
        ExportTarget target;

        @Parameters(index = "1", paramLabel = "VALUE",
                description = "Usage in bytes (512, 64K, 10G) or a percentage (80%%) of the quota, else of the size.")
        String value;

        @Option(names = "--name", paramLabel = "N", defaultValue = ThresholdSetting.DEFAULT_NAME,
                description = "Threshold name, for several per export (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--repeat", paramLabel = "SIZE", description = "Re-arm every SIZE bytes instead of once.")
        String repeat;

        @Override
        public Integer call() throws IOException {
            ThresholdValue parsed = ThresholdValue.parse(value);
            ObjectNode body = JsonNodeFactory.instance.objectNode().put("value", parsed.toString());
            if (repeat != null) {
                body.put("repeat", ByteSize.parse(repeat));
            }
            JsonNode list = target.client().put(thresholdsPath(target.export) + "/" + ControlClient.segment(name), body);
            PrintWriter out = target.out();
            JsonNode mine = find(list, name);
            if (mine == null) {
                out.println("export " + target.export + ": threshold '" + name + "' disarmed");
            } else {
                out.println("export " + target.export + ": threshold '" + name + "' " + describe(mine));
            }
            return 0;
        }
    }

    @Command(name = "show", description = "Show an export's thresholds.")
    static final class Show implements Callable<Integer> {
        @Mixin
        ExportTarget target;

        @Option(names = "--json", description = "Print the JSON the control API returns.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = target.out();
            if (json) {
                out.println(target.client().get(thresholdsPath(target.export)).toPrettyString());
                return 0;
            }
            JsonNode exported = target.client().get("/exports/" + ControlClient.segment(target.export));
            out.println(summary(exported));
            JsonNode list = exported.path("thresholds");
            if (list.isEmpty()) {
                out.println("no thresholds");
            }
            for (JsonNode t : list) {
                out.println(t.path("name").asText() + ": " + describe(t));
            }
            return 0;
        }

        /** {@code export vm: usage 17M of 256M, quota 20M (pause), 1 writer paused}. */
        private static String summary(JsonNode e) {
            StringBuilder s = new StringBuilder("export ").append(e.path("name").asText())
                    .append(": usage ").append(ByteSize.format(e.path("usage").asLong()))
                    .append(" of ").append(ByteSize.format(e.path("size").asLong()));
            JsonNode quota = e.path("quota");
            s.append(quota.isObject()
                    ? ", quota " + ByteSize.format(quota.path("bytes").asLong()) + " (" + quota.path("policy").asText() + ")"
                    : ", no quota");
            int paused = e.path("paused-writers").asInt();
            if (paused > 0) {
                s.append(", ").append(paused).append(paused == 1 ? " writer" : " writers").append(" paused");
            }
            return s.toString();
        }
    }

    @Command(name = "clear", description = "Disarm and remove a threshold (all of the export's without --name).")
    static final class Clear implements Callable<Integer> {
        @Mixin
        ExportTarget target;

        @Option(names = "--name", paramLabel = "N", description = "Only this threshold.")
        String name;

        @Override
        public Integer call() throws IOException {
            String path = thresholdsPath(target.export) + (name == null ? "" : "/" + ControlClient.segment(name));
            target.client().delete(path);
            target.out().println("export " + target.export + ": "
                    + (name == null ? "all thresholds cleared" : "threshold '" + name + "' cleared"));
            return 0;
        }
    }

    private static JsonNode find(JsonNode list, String name) {
        for (JsonNode t : list) {
            if (t.path("name").asText().equals(name)) {
                return t;
            }
        }
        return null;
    }

    static String describe(JsonNode t) {
        long offset = t.path("offset").asLong();
        StringBuilder s = new StringBuilder(t.path("state").asText())
                .append(" at ").append(t.path("value").asText());
        if (!t.path("value").asText().equals(ByteSize.format(offset))) {
            s.append(" (").append(offset).append(" bytes)");
        }
        long repeat = t.path("repeat").asLong();
        if (repeat > 0) {
            s.append(", repeating every ").append(ByteSize.format(repeat));
        }
        long fired = t.path("fired").asLong();
        if (fired > 0) {
            s.append(", fired ").append(fired).append(fired == 1 ? " time" : " times")
                    .append(", last at ").append(t.path("last-fired").asText());
        }
        return s.toString();
    }
}
