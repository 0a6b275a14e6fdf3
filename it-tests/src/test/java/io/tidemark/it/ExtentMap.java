package io.tidemark.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocation map as the tools print it, reduced to what every tool agrees on: runs of
 * bytes that are data, or holes (which read as zeros). Adjacent runs of the same kind are
 * merged, because tools split runs at different boundaries (per request, per cluster).
 */
public record ExtentMap(List<Run> runs) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code length} bytes from {@code offset}, allocated ({@code hole == false}) or not. */
    public record Run(long offset, long length, boolean hole) {
        @Override
        public String toString() {
            return (hole ? "hole" : "data") + "[" + offset + "+" + length + "]";
        }
    }

    public ExtentMap {
        runs = merge(runs);
    }

    /** {@code nbdinfo --map --json}: {@code type} bit 0 is NBD_STATE_HOLE. */
    public static ExtentMap fromNbdinfo(String json) {
        List<Run> runs = new ArrayList<>();
        for (JsonNode extent : parse(json)) {
            runs.add(new Run(extent.get("offset").asLong(), extent.get("length").asLong(),
                    (extent.get("type").asInt() & 1) != 0));
        }
        return new ExtentMap(runs);
    }

    /** {@code qemu-img map --output=json}, and tidemark image map which prints the same fields. */
    public static ExtentMap fromQemuImg(String json) {
        List<Run> runs = new ArrayList<>();
        for (JsonNode extent : parse(json)) {
            runs.add(new Run(extent.get("start").asLong(), extent.get("length").asLong(),
                    !extent.get("data").asBoolean()));
        }
        return new ExtentMap(runs);
    }

    public long dataBytes() {
        return runs.stream().filter(r -> !r.hole()).mapToLong(Run::length).sum();
    }

    public long size() {
        return runs.isEmpty() ? 0 : runs.getLast().offset() + runs.getLast().length();
    }

    private static List<Run> merge(List<Run> runs) {
        List<Run> merged = new ArrayList<>();
        for (Run run : runs) {
            if (run.length() == 0) {
                continue;
            }
            if (!merged.isEmpty()) {
                Run last = merged.getLast();
                if (last.offset() + last.length() != run.offset()) {
                    throw new IllegalArgumentException("map is not contiguous: " + last + " then " + run);
                }
                if (last.hole() == run.hole()) {
                    merged.set(merged.size() - 1, new Run(last.offset(), last.length() + run.length(), last.hole()));
                    continue;
                }
            }
            merged.add(run);
        }
        return List.copyOf(merged);
    }

    private static JsonNode parse(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            if (!root.isArray()) {
                throw new IllegalArgumentException("expected a JSON array of extents, got: " + json);
            }
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }
}
