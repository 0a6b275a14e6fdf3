package io.tidemark.server.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.image.NoSpaceException;
import io.tidemark.threshold.EventFanout;
import io.tidemark.threshold.EventStreamHub;
import io.tidemark.threshold.ExportState;
import io.tidemark.threshold.ThresholdEvent;
import io.tidemark.threshold.ThresholdMonitor;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ControlServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SIZE = 1 << 20;

    private final EventStreamHub hub = new EventStreamHub();
    private final EventFanout fanout = new EventFanout(List.of(hub));
    private final TidemarkMetrics metrics = new TidemarkMetrics();
    private final HttpClient http = HttpClient.newHttpClient();
    private final MemoryDevice device = new MemoryDevice(SIZE);
    private ThresholdMonitor monitor;
    private ControlServer server;
    private int connections = 2;

    private final class Export implements ControlledExport {
        @Override
        public String name() {
            return "disk";
        }

        @Override
        public io.tidemark.image.BlockDevice device() {
            return device;
        }

        @Override
        public ThresholdMonitor monitor() {
            return monitor;
        }

        @Override
        public int connections() {
            return connections;
        }
    }

    @BeforeEach
    void start() throws Exception {
        monitor = ThresholdMonitor.start("disk", SIZE, device::usage, 0, ExportState.EMPTY, ThresholdMonitor.StateStore.NONE,
                fanout);
        device.listener(monitor);
        Export export = new Export();
        metrics.bindExport(export);
        metrics.bindEvents(fanout, null);
        server = ControlServer.start(new InetSocketAddress("127.0.0.1", 0), () -> List.of(export), hub, metrics,
                null);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        monitor.close();
        http.close();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode ok(String method, String path, String body) throws Exception {
        HttpResponse<String> r = send(method, path, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private void write(long offset, int length) throws Exception {
        device.write(offset, ByteBuffer.allocate(length), false);
    }

    @Test
    void healthAndExportListing() throws Exception {
        assertThat(ok("GET", "/health", null).path("status").asText()).isEqualTo("ok");
        write(0, 4096);
        JsonNode exports = ok("GET", "/exports", null);
        assertThat(exports).hasSize(1);
        JsonNode disk = exports.get(0);
        assertThat(disk.path("name").asText()).isEqualTo("disk");
        assertThat(disk.path("size").asLong()).isEqualTo(SIZE);
        assertThat(disk.path("usage").asLong()).isEqualTo(4096);
        assertThat(disk.path("allocated").asLong()).isEqualTo(4096);
        assertThat(disk.path("quota").isNull()).isTrue();
        assertThat(disk.path("connections").asInt()).isEqualTo(2);
        assertThat(ok("GET", "/exports/disk", null).path("name").asText()).isEqualTo("disk");
    }

    @Test
    void thresholdsAreSetShownFiredAndCleared() throws Exception {
        JsonNode set = ok("PUT", "/exports/disk/thresholds/warn", "{\"value\":\"8K\"}");
        assertThat(set.get(0).path("offset").asLong()).isEqualTo(8192);
        assertThat(set.get(0).path("state").asText()).isEqualTo("armed");
        ok("PUT", "/exports/disk/thresholds/steps", "{\"value\":\"50%\",\"repeat\":\"64K\"}");

        write(0, 12288);
        monitor.awaitIdle();
        JsonNode shown = ok("GET", "/exports/disk/thresholds", null);
        assertThat(shown.get(0).path("name").asText()).isEqualTo("warn");
        assertThat(shown.get(0).path("state").asText()).isEqualTo("cleared");
        assertThat(shown.get(0).path("fired").asLong()).isEqualTo(1);
        assertThat(shown.get(1).path("offset").asLong()).isEqualTo(SIZE / 2);
        assertThat(shown.get(1).path("repeat").asLong()).isEqualTo(65536);

        ok("DELETE", "/exports/disk/thresholds/warn", null);
        assertThat(ok("GET", "/exports/disk/thresholds", null)).hasSize(1);
        assertThat(send("DELETE", "/exports/disk/thresholds/warn", null).statusCode()).isEqualTo(404);
        assertThat(ok("DELETE", "/exports/disk/thresholds", null)).isEmpty();
    }

    @Test
    void badRequestsNameWhatIsWrong() throws Exception {
        HttpResponse<String> r = send("PUT", "/exports/disk/thresholds/x", "{\"value\":\"lots\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("not a size");
        r = send("PUT", "/exports/disk/thresholds/x", "{}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("'value'");
        r = send("PUT", "/exports/disk/thresholds/bad%20name", "{\"value\":\"1G\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("bad threshold name");
        r = send("PUT", "/exports/disk/quota", "{\"size\":\"1G\",\"policy\":\"maybe\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("unknown quota policy");
        assertThat(send("GET", "/exports/nope", null).statusCode()).isEqualTo(404);
        assertThat(send("GET", "/exports/nope", null).body()).contains("no export named 'nope'");
        assertThat(send("POST", "/exports", "{}").statusCode()).isEqualTo(405);
        assertThat(send("GET", "/elsewhere", null).statusCode()).isEqualTo(404);
    }

    @Test
    void eventsStreamAsServerSentEvents() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(uri("/events?export=disk")).build();
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/event-stream"));
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            assertThat(lines.readLine()).startsWith(": subscribed");
            ok("PUT", "/exports/disk/thresholds/default", "{\"value\":\"4K\"}");
            write(0, 8192);
            String id = null;
            String data = null;
            String event = null;
            for (String line = lines.readLine(); line != null && data == null; line = lines.readLine()) {
                if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = line.substring(6);
                }
            }
            assertThat(event).isEqualTo("threshold");
            JsonNode e = JSON.readTree(data);
            assertThat(e.path("id").asText()).isEqualTo(id);
            assertThat(e.path("export").asText()).isEqualTo("disk");
            assertThat(e.path("write-threshold").asLong()).isEqualTo(4096);
            assertThat(e.path("amount-exceeded").asLong()).isEqualTo(4096);
        }
        assertThat(send("GET", "/events?export=nope", null).statusCode()).isEqualTo(404);
    }

    @Test
    void aReconnectingStreamGetsTheEventsItMissed() throws Exception {
        List<ThresholdEvent> seen = new CopyOnWriteArrayList<>();
        hub.subscribe(null, seen::add);
        ok("PUT", "/exports/disk/thresholds/a", "{\"value\":\"1K\"}");
        ok("PUT", "/exports/disk/thresholds/b", "{\"value\":\"2K\"}");
        write(0, 4096);
        monitor.awaitIdle();
        assertThat(seen).extracting(ThresholdEvent::threshold).containsExactly("a", "b");

        HttpRequest request = HttpRequest.newBuilder(uri("/events"))
                .header("Last-Event-ID", seen.getFirst().id()).build();
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            assertThat(lines.readLine()).startsWith(": subscribed");
            assertThat(lines.readLine()).isEmpty();
            assertThat(lines.readLine()).isEqualTo("id: " + seen.get(1).id());
        }
    }

    @Test
    void quotaWithEnospcAndWithPauseReleasedByRaisingIt() throws Exception {
        JsonNode export = ok("PUT", "/exports/disk/quota", "{\"size\":\"8K\",\"policy\":\"enospc\"}");
        assertThat(export.path("quota").path("bytes").asLong()).isEqualTo(8192);
        write(0, 8192);
        assertThatThrownBy(() -> write(8192, 1)).isInstanceOf(NoSpaceException.class);

        ok("PUT", "/exports/disk/quota", "{\"size\":\"8K\",\"policy\":\"pause\",\"pause-timeout-seconds\":30}");
        ExecutorService writer = Executors.newSingleThreadExecutor();
        Future<?> paused = writer.submit(() -> {
            write(8192, 4096);
            return null;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (ok("GET", "/exports/disk", null).path("paused-writers").asInt() == 0) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(5);
        }
        assertThat(paused.isDone()).isFalse();
        ok("PUT", "/exports/disk/quota", "{\"size\":\"16K\"}");
        paused.get(5, TimeUnit.SECONDS);
        assertThat(device.usage()).isEqualTo(12288);
        JsonNode after = ok("GET", "/exports/disk", null);
        assertThat(after.path("quota").path("policy").asText()).isEqualTo("pause");
        ok("DELETE", "/exports/disk/quota", null);
        assertThat(ok("GET", "/exports/disk", null).path("quota").isNull()).isTrue();
        writer.shutdown();
    }

    @Test
    void metricsAreExposedInPrometheusFormat() throws Exception {
        MeteredBlockDevice metered = new MeteredBlockDevice(device, "disk", metrics,
                e -> e instanceof NoSpaceException ? "ENOSPC" : "EIO");
        metered.write(0, ByteBuffer.allocate(4096), false);
        metered.read(0, ByteBuffer.allocate(512));
        monitor.setQuota(new io.tidemark.threshold.Quota(4096, io.tidemark.threshold.QuotaPolicy.ENOSPC));
        assertThatThrownBy(() -> metered.write(4096, ByteBuffer.allocate(1), false))
                .isInstanceOf(NoSpaceException.class);
        ok("PUT", "/exports/disk/thresholds/t", "{\"value\":\"1K\"}");
        monitor.awaitIdle();

        HttpResponse<String> r = send("GET", "/metrics", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
        String text = r.body();
        assertThat(text).contains("tidemark_requests_seconds_count{command=\"write\",export=\"disk\"} 1");
        assertThat(text).contains("tidemark_requests_seconds_bucket{command=\"write\",export=\"disk\",le=");
        assertThat(text).contains("tidemark_request_bytes_total{command=\"read\",export=\"disk\"} 512");
        assertThat(text).contains("tidemark_request_errors_total{command=\"write\",error=\"ENOSPC\",export=\"disk\"} 1");
        assertThat(text).contains("tidemark_export_usage_bytes{export=\"disk\"} 4096");
        assertThat(text).contains("tidemark_export_quota_bytes{export=\"disk\"} 4096");
        assertThat(text).contains("tidemark_events_emitted_total 1");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.address().getPort())) {
            StringBuilder requests = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                requests.append("GET /exports/nope").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
            }
            socket.getOutputStream().write(requests.toString().getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            List<String> bodies = new java.util.ArrayList<>();
            socket.setSoTimeout(10_000);
            while (bodies.size() < 5) {
                String line = in.readLine();
                assertThat(line).as("response %d", bodies.size()).isNotNull();
                if (line.startsWith("{")) {
                    bodies.add(line);
                }
            }
            for (int i = 0; i < 5; i++) {
                assertThat(bodies.get(i)).contains("no export named 'nope" + i + "'");
            }
        }
    }

    @Test
    void aBearerTokenGuardsEverythingButHealth() throws Exception {
        server.close();
        server = ControlServer.start(new InetSocketAddress("127.0.0.1", 0), () -> List.of(new Export()), hub,
                metrics, "s3cret");
        assertThat(send("GET", "/health", null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/exports", null).statusCode()).isEqualTo(401);
        HttpRequest wrong = HttpRequest.newBuilder(uri("/exports")).header("Authorization", "Bearer nope").build();
        assertThat(http.send(wrong, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        HttpRequest right = HttpRequest.newBuilder(uri("/exports")).header("Authorization", "Bearer s3cret").build();
        assertThat(http.send(right, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
}
