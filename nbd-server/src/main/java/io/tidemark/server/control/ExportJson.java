package io.tidemark.server.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.threshold.Quota;
import io.tidemark.threshold.ThresholdMonitor;
import io.tidemark.threshold.ThresholdStatus;
import java.util.List;
import java.util.Optional;

/** The JSON views of exports, thresholds and quotas that the control API returns. */
final class ExportJson {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private ExportJson() {
    }

    static ObjectNode export(ControlledExport e) {
        ThresholdMonitor m = e.monitor();
        ObjectNode node = MAPPER.createObjectNode();
        node.put("name", e.name());
        node.put("size", e.device().size());
        // Through the monitor, which reads the device's mark without its locks: a writer paused at
        // the quota holds the image's allocator, and the API must answer exactly then.
        node.put("usage", m.usage());
        node.put("allocated", m.allocatedBytes());
        node.set("quota", quota(m.quota()));
        node.put("paused-writers", m.pausedWriters());
        node.set("thresholds", thresholds(m.thresholds()));
        node.put("connections", e.connections());
        return node;
    }

    static ArrayNode exports(List<? extends ControlledExport> exports) {
        ArrayNode array = MAPPER.createArrayNode();
        for (ControlledExport e : exports) {
            array.add(export(e));
        }
        return array;
    }

    static ArrayNode thresholds(List<ThresholdStatus> thresholds) {
        ArrayNode array = MAPPER.createArrayNode();
        for (ThresholdStatus t : thresholds) {
            ObjectNode node = array.addObject();
            node.put("name", t.setting().name());
            node.put("value", t.setting().value().toString());
            node.put("offset", t.offset());
            node.put("repeat", t.setting().repeat());
            node.put("state", t.state());
            node.put("fired", t.fired());
            if (t.lastFired() == null) {
                node.putNull("last-fired");
            } else {
                node.put("last-fired", t.lastFired().toString());
            }
        }
        return array;
    }

    static ObjectNode quota(Optional<Quota> quota) {
        if (quota.isEmpty()) {
            return null;
        }
        ObjectNode node = MAPPER.createObjectNode();
        node.put("bytes", quota.get().bytes());
        node.put("policy", quota.get().policy().label());
        node.put("pause-timeout-seconds", quota.get().pauseTimeout().toMillis() / 1000.0);
        return node;
    }
}
