package io.tidemark.threshold;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Wraps an event as a CloudEvents 1.0 event in structured JSON mode
 * ({@code application/cloudevents+json}); the tidemark event is the {@code data}.
 */
public final class CloudEventEncoder {

    public static final String CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";
    public static final String TYPE = "io.tidemark.threshold.exceeded";

    private CloudEventEncoder() {
    }

    public static byte[] encode(ThresholdEvent event) {
        return encode(event, 0);
    }

    /**
     * @param coalesced how many earlier events of the export this one stands for (a full outbox
     *                  folded them into it); sent as the {@code coalesced} extension when above 0
     */
    public static byte[] encode(ThresholdEvent event, long coalesced) {
        ObjectNode ce = EventCodec.mapper().createObjectNode();
        ce.put("specversion", "1.0");
        ce.put("id", event.id());
        ce.put("source", "/tidemark/exports/" + URLEncoder.encode(event.export(), StandardCharsets.UTF_8));
        ce.put("type", TYPE);
        ce.put("subject", event.export());
        ce.put("time", event.time().toString());
        // The CloudEvents "sequence" extension: a string, ordered within the source.
        ce.put("sequence", Long.toString(event.sequence()));
        if (coalesced > 0) {
            ce.put("coalesced", coalesced);
        }
        ce.put("datacontenttype", "application/json");
        ce.set("data", EventCodec.toNode(event));
        return EventCodec.write(ce).getBytes(StandardCharsets.UTF_8);
    }
}
