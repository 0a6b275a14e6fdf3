package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** QEMU's own NBD client code (qemu-nbd --list) reads the export list, sizes, flags and contexts. */
class QemuNbdListIT {

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void listsExportsWithDescriptionsSizesFlagsAndContexts() throws Exception {
        NbdServer server = servers.start(
                Export.writable("vm1", TestImages.sparse(dir.resolve("vm1.raw"), 10 * MIB)),
                Export.writable("vm2", TestImages.sparse(dir.resolve("vm2.raw"), 20 * MIB)));

        Client.Result result = Client.run("qemu-nbd", "--list", "-b", "127.0.0.1",
                "-p", Integer.toString(server.port())).assertSuccess();

        Map<String, List<String>> exports = parse(result.stdout());
        assertThat(exports).as(result.describe("listed")).containsOnlyKeys("vm1", "vm2");
        assertThat(exports.get("vm1")).contains("size:  " + 10 * MIB);
        assertThat(exports.get("vm2")).contains("size:  " + 20 * MIB);
        for (Map.Entry<String, List<String>> export : exports.entrySet()) {
            List<String> lines = export.getValue();
            assertThat(lines).as(export.getKey()).anyMatch(l -> l.startsWith("description: ") && l.length() > 13);
            assertThat(lines).as(export.getKey()).anyMatch(l -> l.startsWith("flags:")
                    && l.contains("flush") && l.contains("fua") && l.contains("trim") && l.contains("zeroes")
                    && l.contains("multi") && !l.contains("readonly"));
            assertThat(lines).as(export.getKey()).contains("base:allocation");
        }
    }

    /** Export name to its indented detail lines, trimmed. */
    private static Map<String, List<String>> parse(String listing) {
        Map<String, List<String>> exports = new LinkedHashMap<>();
        List<String> current = null;
        for (String line : listing.split("\n")) {
            String trimmed = line.trim();
            if (trimmed.startsWith("export: '")) {
                current = new ArrayList<>();
                exports.put(trimmed.substring("export: '".length(), trimmed.length() - 1), current);
            } else if (current != null && !trimmed.isEmpty()) {
                current.add(trimmed);
            }
        }
        return exports;
    }
}
