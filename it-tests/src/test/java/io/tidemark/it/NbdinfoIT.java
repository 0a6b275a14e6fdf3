package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** libnbd's nbdinfo sees our exports, their sizes, flags, block sizes, contexts and allocation. */
class NbdinfoIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_BLOCK = 32 * MIB;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void listShowsEveryExportWithDescriptionSizeFlagsBlockSizesAndContexts() throws Exception {
        NbdServer server = servers.start(
                Export.writable("disk", TestImages.sparse(dir.resolve("disk.raw"), 64 * MIB)),
                Export.writable("small", TestImages.sparse(dir.resolve("small.raw"), MIB)));

        JsonNode list = json(Client.run("nbdinfo", "--list", "--json", server.uri("")).assertSuccess().stdout());

        Map<String, JsonNode> exports = new HashMap<>();
        list.get("exports").forEach(e -> exports.put(e.get("export-name").asText(), e));
        assertThat(exports).containsOnlyKeys("disk", "small");
        assertThat(exports.get("disk").get("export-size").asLong()).isEqualTo(64 * MIB);
        assertThat(exports.get("small").get("export-size").asLong()).isEqualTo(MIB);
        assertThat(list.get("protocol").asText()).isEqualTo("newstyle-fixed");
        assertThat(list.get("structured").asBoolean()).as("structured replies negotiated").isTrue();
        for (JsonNode export : exports.values()) {
            String name = export.get("export-name").asText();
            assertThat(export.path("description").asText()).as("description of %s", name).isNotBlank();
            assertThat(export.get("is_read_only").asBoolean()).as("%s read-only", name).isFalse();
            for (String flag : new String[] {"can_flush", "can_fua", "can_trim", "can_zero", "can_multi_conn",
                    "can_df", "can_cache"}) {
                assertThat(export.get(flag).asBoolean()).as("%s %s", name, flag).isTrue();
            }
            assertThat(export.get("contexts")).extracting(JsonNode::asText).contains("base:allocation");
            long minimum = export.get("block_size_minimum").asLong();
            long preferred = export.get("block_size_preferred").asLong();
            assertThat(minimum).as("%s minimum block size", name).isIn(1L, 512L);
            assertThat(Long.bitCount(preferred)).as("%s preferred block size %d is a power of two", name, preferred)
                    .isEqualTo(1);
            assertThat(preferred).as("%s preferred block size", name).isBetween(512L, MAX_BLOCK);
            assertThat(export.get("block_size_maximum").asLong()).as("%s maximum block size", name)
                    .isEqualTo(MAX_BLOCK);
        }
    }

    @Test
    void emptyExportNameSelectsTheDefaultExport() throws Exception {
        NbdServer server = servers.start(
                Export.writable("first", TestImages.sparse(dir.resolve("first.raw"), 3 * MIB)),
                Export.writable("second", TestImages.sparse(dir.resolve("second.raw"), 5 * MIB)));

        String size = Client.run("nbdinfo", "--size", server.uri("")).assertSuccess().stdout().trim();

        assertThat(Long.parseLong(size)).isEqualTo(3 * MIB);
    }

    @Test
    void unknownExportNameIsRefused() throws Exception {
        NbdServer server = servers.start(Export.writable("disk", TestImages.sparse(dir.resolve("d.raw"), MIB)));

        Client.Result result = Client.run("nbdinfo", "--size", server.uri("no-such-export")).assertFailure();

        assertThat(result.stderr()).containsIgnoringCase("no-such-export");
    }

    @Test
    void readOnlyExportIsAdvertisedReadOnly() throws Exception {
        NbdServer server = servers.start(Export.readOnly("golden", TestImages.sparse(dir.resolve("g.raw"), 2 * MIB)));

        JsonNode export = json(Client.run("nbdinfo", "--json", server.uri("golden")).assertSuccess().stdout())
                .get("exports").get(0);

        assertThat(export.get("is_read_only").asBoolean()).isTrue();
        assertThat(export.get("export-size").asLong()).isEqualTo(2 * MIB);
    }

    @Test
    void mapOfASparseImageEqualsTidemarkImageMap() throws Exception {
        Path image = TestImages.sparse(dir.resolve("sparse.raw"), 64 * MIB);
        Random random = new Random(4);
        TestImages.fillRandom(image, 0, 64 * 1024, random);
        TestImages.fillRandom(image, 5 * MIB, (int) MIB, random);
        TestImages.fillRandom(image, 17 * MIB + 128 * 1024, 256 * 1024, random);
        TestImages.fillRandom(image, 64 * MIB - 4096, 4096, random);
        ExtentMap ofImage = ImageTool.map(image);
        NbdServer server = servers.start(Export.writable("sparse", image));

        ExtentMap overNbd = ExtentMap.fromNbdinfo(
                Client.run("nbdinfo", "--map", "--json", server.uri("sparse")).assertSuccess().stdout());

        assertThat(overNbd).isEqualTo(ofImage);
        assertThat(overNbd.bytesOf(ExtentMap.Kind.HOLE)).as("the raw file's holes are holes over NBD")
                .isEqualTo(64 * MIB - overNbd.bytesOf(ExtentMap.Kind.DATA));
        assertThat(overNbd.bytesOf(ExtentMap.Kind.DATA)).isEqualTo(64 * 1024 + MIB + 256 * 1024 + 4096);
        assertThat(overNbd.size()).isEqualTo(64 * MIB);
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }
}
