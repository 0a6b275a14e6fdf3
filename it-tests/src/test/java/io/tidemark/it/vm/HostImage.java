package io.tidemark.it.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** An image file on the host, made and inspected with {@code tidemark image …} as a user would. */
record HostImage(Path path) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code tidemark image create --size=SIZE PATH}: a thin image, the format tidemark exists for. */
    static HostImage createThin(Path path, String size) throws IOException, InterruptedException {
        TidemarkCli.run("image", "create", "-O", "tidemark", "--size=" + size, path.toString()).assertSuccess();
        return new HostImage(path);
    }

    /** {@code tidemark image check}: exit 0 (clean) or an assertion failure with its report. */
    TidemarkCli.Result assertClean() throws IOException, InterruptedException {
        TidemarkCli.Result check = TidemarkCli.run("image", "check", path.toString());
        if (check.exitCode() != 0) {
            throw new AssertionError(check.describe("did not report a clean image (0 clean, 2 corrupt, 3 leaks)"));
        }
        return check;
    }

    /** The bytes {@code tidemark image map --json} lists as data. */
    long mappedDataBytes() throws IOException, InterruptedException {
        JsonNode extents = JSON.readTree(TidemarkCli.run("image", "map", "--json", path.toString())
                .assertSuccess().stdout());
        long data = 0;
        for (JsonNode extent : extents) {
            if (extent.path("data").asBoolean()) {
                data += extent.path("length").asLong();
            }
        }
        return data;
    }
}
