package io.tidemark.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.image.ByteSize;
import io.tidemark.threshold.QuotaPolicy;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tidemark quota set}: the physical limit of a running server's export. */
@Command(name = "quota", description = "Set an export's physical quota.", subcommands = QuotaCommand.Set.class)
public final class QuotaCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "set", description = "Limit the export's usage to SIZE (0 removes the limit). A write needing"
            + " more fails with ENOSPC (--policy enospc) or waits until the quota is raised (--policy pause);"
            + " raising it releases waiting writes at once.")
    static final class Set implements Callable<Integer> {
        @Mixin
        ExportTarget target;

        @Parameters(index = "1", paramLabel = "SIZE", description = "e.g. 10G; 0 removes the quota.")
        String size;

        @Option(names = "--policy", paramLabel = "enospc|pause",
                description = "What a write beyond the quota does (default: the current policy, else enospc).")
        String policy;

        @Option(names = "--pause-timeout", paramLabel = "SECONDS",
                description = "How long a paused write waits before failing with ENOSPC (default 60).")
        Double pauseTimeout;

        @Override
        public Integer call() throws IOException {
            ObjectNode body = JsonNodeFactory.instance.objectNode().put("size", ByteSize.parse(size));
            if (policy != null) {
                body.put("policy", QuotaPolicy.parse(policy).label());
            }
            if (pauseTimeout != null) {
                body.put("pause-timeout-seconds", pauseTimeout);
            }
            JsonNode exported = target.client().put("/exports/" + ControlClient.segment(target.export) + "/quota", body);
            JsonNode quota = exported.path("quota");
            target.out().println("export " + target.export + ": " + (quota.isObject()
                    ? "quota " + ByteSize.format(quota.path("bytes").asLong()) + " (" + quota.path("bytes").asLong()
                            + " bytes), policy " + quota.path("policy").asText()
                    : "no quota") + ", usage " + exported.path("usage").asLong() + " bytes");
            return 0;
        }
    }
}
