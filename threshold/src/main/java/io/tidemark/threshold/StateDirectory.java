package io.tidemark.threshold;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code --state-dir}: one JSON file per export under {@code exports/}, replaced atomically
 * (write a temporary file, fsync, rename, fsync the directory) so a crash leaves the old or the
 * new state, never a torn one.
 */
public final class StateDirectory {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final Path exports;

    public StateDirectory(Path root) throws IOException {
        this.root = root;
        this.exports = root.resolve("exports");
        Files.createDirectories(exports);
    }

    public Path root() {
        return root;
    }

    public Optional<ExportState> load(String export) throws IOException {
        Path file = fileOf(export);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(decode(JSON.readTree(file.toFile())));
        } catch (RuntimeException | IOException e) {
            throw new IOException("cannot read threshold state " + file + ": " + e.getMessage(), e);
        }
    }

    public void save(String export, ExportState state) throws IOException {
        Path file = fileOf(export);
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(encode(export, state));
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(exports);
    }

    /** A {@link ThresholdMonitor.StateStore} that keeps {@code export}'s state in this directory. */
    public ThresholdMonitor.StateStore storeFor(String export) {
        return state -> {
            try {
                save(export, state);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private Path fileOf(String export) {
        return exports.resolve(URLEncoder.encode(export, StandardCharsets.UTF_8) + ".json");
    }

    private static ObjectNode encode(String export, ExportState state) {
        ObjectNode root = JSON.createObjectNode();
        root.put("export", export);
        root.put("next-sequence", state.nextSequence());
        if (state.quota() == null) {
            root.putNull("quota");
        } else {
            ObjectNode quota = root.putObject("quota");
            quota.put("bytes", state.quota().bytes());
            quota.put("policy", state.quota().policy().label());
            quota.put("pause-timeout-ms", state.quota().pauseTimeout().toMillis());
        }
        ArrayNode thresholds = root.putArray("thresholds");
        for (ThresholdStatus t : state.thresholds()) {
            ObjectNode node = thresholds.addObject();
            node.put("name", t.setting().name());
            node.put("value", t.setting().value().toString());
            node.put("repeat", t.setting().repeat());
            node.put("offset", t.offset());
            node.put("armed", t.armed());
            node.put("fired", t.fired());
            if (t.lastFired() == null) {
                node.putNull("last-fired");
            } else {
                node.put("last-fired", t.lastFired().toString());
            }
        }
        return root;
    }

    private static ExportState decode(JsonNode root) {
        Quota quota = null;
        JsonNode q = root.path("quota");
        if (q.isObject()) {
            quota = new Quota(required(q, "bytes").asLong(), QuotaPolicy.parse(required(q, "policy").asText()),
                    Duration.ofMillis(q.path("pause-timeout-ms").asLong(Quota.DEFAULT_PAUSE_TIMEOUT.toMillis())));
        }
        List<ThresholdStatus> thresholds = new ArrayList<>();
        for (JsonNode node : root.path("thresholds")) {
            ThresholdSetting setting = new ThresholdSetting(required(node, "name").asText(),
                    ThresholdValue.parse(required(node, "value").asText()), node.path("repeat").asLong(0));
            JsonNode last = node.path("last-fired");
            thresholds.add(new ThresholdStatus(setting, node.path("offset").asLong(0), node.path("armed").asBoolean(true),
                    node.path("fired").asLong(0), last.isTextual() ? Instant.parse(last.asText()) : null));
        }
        return new ExportState(thresholds, quota, Math.max(1, root.path("next-sequence").asLong(1)));
    }

    private static JsonNode required(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException("missing field '" + field + "'");
        }
        return value;
    }
}
