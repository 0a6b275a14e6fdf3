package io.tidemark.server.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MeteredBlockDeviceTest {

    private final TidemarkMetrics metrics = new TidemarkMetrics();
    private final MemoryDevice device = new MemoryDevice(1 << 20);
    private final MeteredBlockDevice metered = new MeteredBlockDevice(device, "disk", metrics, e -> "EIO");

    @Test
    void aWriteInPartsCountsAsOneWriteOfAllItsBytes() throws Exception {
        ByteBuffer head = ByteBuffer.wrap("head-".getBytes(StandardCharsets.US_ASCII));
        ByteBuffer rest = ByteBuffer.wrap("and the rest".getBytes(StandardCharsets.US_ASCII));

        metered.write(4096, new ByteBuffer[] {head, rest}, false);

        String text = metrics.scrape();
        assertThat(text).contains("tidemark_requests_seconds_count{command=\"write\",export=\"disk\"} 1");
        assertThat(text).contains("tidemark_request_bytes_total{command=\"write\",export=\"disk\"} 17");
        ByteBuffer back = ByteBuffer.allocate(17);
        device.read(4096, back);
        assertThat(new String(back.array(), StandardCharsets.US_ASCII)).isEqualTo("head-and the rest");
        assertThat(head.hasRemaining()).isFalse();
        assertThat(rest.hasRemaining()).isFalse();
    }
}
