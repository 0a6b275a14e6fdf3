package io.tidemark.threshold;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * The JSON form of a {@link ThresholdEvent}, shared by the log line, the webhook's CloudEvent
 * data, the event stream and the outbox. Field names follow QEMU's BLOCK_WRITE_THRESHOLD where it
 * has them ({@code amount-exceeded}, {@code write-threshold}); {@code quota} is null without one.
 */
public final class EventCodec {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EventCodec() {
    }

    public static ObjectNode toNode(ThresholdEvent e) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", e.id());
        node.put("sequence", e.sequence());
        node.put("export", e.export());
        node.put("threshold", e.threshold());
        node.put("amount-exceeded", e.amountExceeded());
        node.put("write-threshold", e.writeThreshold());
        node.put("usage", e.usage());
        node.put("allocated", e.allocated());
        node.put("virtual-size", e.virtualSize());
        if (e.quota() > 0) {
            node.put("quota", e.quota());
        } else {
            node.putNull("quota");
        }
        node.put("time", e.time().toString());
        return node;
    }

    /** One line of JSON, without a line break. */
    public static String toJson(ThresholdEvent e) {
        return write(toNode(e));
    }

    public static ThresholdEvent fromJson(String json) {
        try {
            return fromNode(JSON.readTree(json));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not an event: " + e.getOriginalMessage(), e);
        }
    }

    public static ThresholdEvent fromNode(JsonNode n) {
        return new ThresholdEvent(text(n, "id"), number(n, "sequence"), text(n, "export"), text(n, "threshold"),
                number(n, "amount-exceeded"), number(n, "write-threshold"), number(n, "usage"),
                number(n, "allocated"), number(n, "virtual-size"), n.path("quota").asLong(0),
                Instant.parse(text(n, "time")));
    }

    static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectMapper mapper() {
        return JSON;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("event field '" + field + "' missing or not a string");
        }
        return v.asText();
    }

    private static long number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("event field '" + field + "' missing or not an integer");
        }
        return v.asLong();
    }
}
