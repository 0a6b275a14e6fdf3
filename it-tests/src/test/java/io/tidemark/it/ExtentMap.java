package io.tidemark.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocation map as the tools print it: runs of data, of allocated zeros, and of holes.
 * Adjacent runs of the same kind are merged, because tools split runs at different boundaries
 * (per request, per cluster), which is not a difference in allocation.
 */
public record ExtentMap(List<Run> runs) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NBD_STATE_HOLE = 1;
    private static final int NBD_STATE_ZERO = 2;

    public enum Kind { DATA, ZERO, HOLE }

    /** {@code length} bytes from {@code offset} of one kind. */
    public record Run(long offset, long length, Kind kind) {
        @Override
        public String toString() {
            return kind.name().toLowerCase() + "[" + offset + "+" + length + "]";
        }
    }

    public ExtentMap {
        runs = merge(runs);
    }

    /** {@code nbdinfo --map --json}: NBD base:allocation flags, hole (bit 0) and zero (bit 1). */
    public static ExtentMap fromNbdinfo(String json) {
        List<Run> runs = new ArrayList<>();
        for (JsonNode extent : parse(json)) {
            int type = extent.get("type").asInt();
            Kind kind = (type & NBD_STATE_HOLE) != 0 ? Kind.HOLE
                    : (type & NBD_STATE_ZERO) != 0 ? Kind.ZERO : Kind.DATA;
            runs.add(new Run(extent.get("offset").asLong(), extent.get("length").asLong(), kind));
        }
        return new ExtentMap(runs);
    }

    /**
     * {@code tidemark image map --json}: qemu-img's fields. In a thin image not present is a hole
     * and present zero is ZERO. A raw file, as qemu-img has it, is present everywhere, and its
     * only zero runs are the holes of the file (raw files have no allocated-zero state), which
     * NBD reports as holes.
     */
    public static ExtentMap fromImageMap(String json, boolean rawFile) {
        List<Run> runs = new ArrayList<>();
        for (JsonNode extent : parse(json)) {
            Kind kind = extent.get("data").asBoolean() ? Kind.DATA
                    : extent.get("present").asBoolean() && !rawFile ? Kind.ZERO : Kind.HOLE;
            runs.add(new Run(extent.get("start").asLong(), extent.get("length").asLong(), kind));
        }
        return new ExtentMap(runs);
    }

    public long bytesOf(Kind kind) {
        return runs.stream().filter(r -> r.kind() == kind).mapToLong(Run::length).sum();
    }

    /** True when {@code [offset, offset + length)} lies inside one run of {@code kind}. */
    public boolean isAll(Kind kind, long offset, long length) {
        return runs.stream().anyMatch(r -> r.kind() == kind && r.offset() <= offset
                && r.offset() + r.length() >= offset + length);
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
                if (last.kind() == run.kind()) {
                    merged.set(merged.size() - 1, new Run(last.offset(), last.length() + run.length(), last.kind()));
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
