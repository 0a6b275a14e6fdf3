package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.tidemark.server.nbd.ClientPolicy;
import io.tidemark.server.nbd.ListenAddress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve} with thresholds, sinks, state and the control API wired to a real NBD server. */
class ServeThresholdsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "serve-test-secret";

    @TempDir
    Path dir;

    private final List<JsonNode> verified = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private HttpServer receiver;

    @AfterEach
    void stopReceiver() {
        if (receiver != null) {
            receiver.stop(0);
        }
        http.close();
    }

    private URI startReceiver() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String signed = exchange.getRequestHeaders().getFirst("webhook-id") + "."
                    + exchange.getRequestHeaders().getFirst("webhook-timestamp") + "."
                    + new String(body, StandardCharsets.UTF_8);
            boolean valid = hmac(signed).equals(exchange.getRequestHeaders().getFirst("webhook-signature"));
            synchronized (verified) {
                if (valid) {
                    verified.add(JSON.readTree(body));
                }
                verified.notifyAll();
            }
            exchange.sendResponseHeaders(valid ? 200 : 400, -1);
            exchange.close();
        });
        receiver.start();
        return URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
    }

    private static String hmac(String content) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode awaitWebhook() throws InterruptedException {
        return awaitWebhooks(1).getFirst();
    }

    private List<JsonNode> awaitWebhooks(int count) throws InterruptedException {
        synchronized (verified) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (verified.size() < count) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("%d of %d signed webhooks within 10 s", verified.size(), count).isPositive();
                TimeUnit.NANOSECONDS.timedWait(verified, left);
            }
            return List.copyOf(verified);
        }
    }

    private ThresholdOptions options(URI webhook) {
        ThresholdOptions o = new ThresholdOptions();
        o.control = "127.0.0.1:0";
        o.webhook = webhook;
        o.webhookSecret = webhook == null ? null : SECRET;
        o.eventLog = dir.resolve("events.jsonl").toString();
        o.stateDir = dir.resolve("state");
        return o;
    }

    private String awaitMetric(Serving serving, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String metrics = get(serving, "/metrics").asText();
        while (!metrics.contains(line) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            metrics = get(serving, "/metrics").asText();
        }
        assertThat(metrics).contains(line);
        return metrics;
    }

    private JsonNode get(Serving serving, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(serving.control().url() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return path.equals("/metrics") ? JSON.getNodeFactory().textNode(r.body()) : JSON.readTree(r.body());
    }

    @Test
    void aThresholdTheUsageExceedsFiresOnStartToEverySinkAndStaysClearedAcrossARestart() throws Exception {
        // A raw file's usage is where its last data ends: here, written through to the end.
        Path image = Files.write(dir.resolve("disk.raw"), new byte[1 << 20]);
        List<ExportSpec> exports = List.of(ExportSpec.parse("disk=" + image + ",threshold=512K"));
        List<ListenAddress> listen = List.of(ListenAddress.Tcp.parse("127.0.0.1:0"));
        ThresholdOptions options = options(startReceiver());
        StringWriter printed = new StringWriter();

        try (Serving serving = ServeCommand.startMonitored(exports, listen, ClientPolicy.OPEN, options, new PrintWriter(printed))) {
            assertThat(printed.toString()).contains("listening on nbd://127.0.0.1:")
                    .contains("control API on http://127.0.0.1:");
            JsonNode event = awaitWebhook();
            assertThat(event.path("type").asText()).isEqualTo("io.tidemark.threshold.exceeded");
            JsonNode data = event.path("data");
            assertThat(data.path("export").asText()).isEqualTo("disk");
            assertThat(data.path("write-threshold").asLong()).isEqualTo(512 << 10);
            assertThat(data.path("usage").asLong()).isEqualTo(1 << 20);
            assertThat(data.path("amount-exceeded").asLong()).isEqualTo(512 << 10);

            JsonNode disk = get(serving, "/exports/disk");
            assertThat(disk.path("size").asLong()).isEqualTo(1 << 20);
            assertThat(disk.path("thresholds").get(0).path("state").asText()).isEqualTo("cleared");
            assertThat(disk.path("connections").asInt()).isZero();

            int nbdPort = ((ListenAddress.Tcp) serving.server().addresses().getFirst()).port();
            try (NbdTestClient client = NbdTestClient.connect(nbdPort, "disk")) {
                assertThat(get(serving, "/exports/disk").path("connections").asInt()).isEqualTo(1);
            }
            // The receiver has the event; the sink counts it delivered once the response is back.
            String metrics = awaitMetric(serving, "tidemark_events_delivered_total 1");
            assertThat(metrics)
                    .contains("tidemark_export_usage_bytes{export=\"disk\"} 1048576")
                    .contains("tidemark_events_emitted_total 1")
                    .contains("tidemark_events_coalesced_total 0");
        }

        try (Serving again = ServeCommand.startMonitored(exports, listen, ClientPolicy.OPEN, options, new PrintWriter(new StringWriter()))) {
            JsonNode disk = get(again, "/exports/disk");
            assertThat(disk.path("thresholds").get(0).path("state").asText()).isEqualTo("cleared");
        }
        List<String> log = Files.readAllLines(dir.resolve("events.jsonl"));
        assertThat(log).hasSize(1);
        assertThat(JSON.readTree(log.getFirst()).path("id").asText()).isEqualTo(awaitWebhook().path("id").asText());
        assertThat(verified).hasSize(1);
    }

    // ---- thin images: clients write through thresholds and quotas ------------------------------

    private static final int CHUNK = 64 << 10;

    private Path thinImage() throws Exception {
        Path image = dir.resolve("thin.img");
        io.tidemark.image.thin.ThinImage.create(image, 64L << 20, CHUNK, false).close();
        return image;
    }

    private Serving serve(String export, ThresholdOptions options) throws Exception {
        return ServeCommand.startMonitored(List.of(ExportSpec.parse(export)),
                List.of(ListenAddress.Tcp.parse("127.0.0.1:0")), ClientPolicy.OPEN, options, new PrintWriter(new StringWriter()));
    }

    private static int nbdPort(Serving serving) {
        return ((ListenAddress.Tcp) serving.server().addresses().getFirst()).port();
    }

    private JsonNode put(Serving serving, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(serving.control().url() + path))
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private long usage(Serving serving) throws Exception {
        return get(serving, "/exports/disk").path("usage").asLong();
    }

    @Test
    void aClientWritingThroughThresholdsGetsExactlyOneSignedEventPerArming() throws Exception {
        Path image = thinImage();
        ThresholdOptions options = options(startReceiver());
        long mark;
        try (Serving serving = serve("disk=" + image, options);
                NbdTestClient client = NbdTestClient.connect(nbdPort(serving), "disk")) {
            mark = usage(serving) + (1 << 20);
            put(serving, "/exports/disk/thresholds/default", "{\"value\":" + mark + "}");
            for (int i = 0; i < 32; i++) {
                assertThat(client.write((long) i * CHUNK, CHUNK, (byte) 1)).isZero();
            }
            JsonNode data = awaitWebhook().path("data");
            assertThat(data.path("write-threshold").asLong()).isEqualTo(mark);
            assertThat(data.path("usage").asLong()).isGreaterThan(mark);
            assertThat(data.path("amount-exceeded").asLong()).isEqualTo(data.path("usage").asLong() - mark);
            assertThat(data.path("amount-exceeded").asLong()).isLessThanOrEqualTo(2L * CHUNK);
            assertThat(data.path("virtual-size").asLong()).isEqualTo(64L << 20);

            long second = usage(serving) + (512 << 10);
            put(serving, "/exports/disk/thresholds/default", "{\"value\":" + second + "}");
            for (int i = 32; i < 64; i++) {
                assertThat(client.write((long) i * CHUNK, CHUNK, (byte) 2)).isZero();
            }
            assertThat(awaitWebhooks(2)).extracting(e -> e.path("data").path("write-threshold").asLong())
                    .containsExactly(mark, second);
        }
        List<JsonNode> log = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("events.jsonl"))) {
            log.add(JSON.readTree(line));
        }
        assertThat(log).hasSize(2);
        assertThat(log).extracting(e -> e.path("sequence").asLong()).containsExactly(1L, 2L);
        assertThat(log.getFirst().path("write-threshold").asLong()).isEqualTo(mark);
    }

    @Test
    void quotaWithEnospcRefusesTheWriteThatNeedsMoreUntilTheQuotaIsRaised() throws Exception {
        Path image = thinImage();
        ThresholdOptions options = options(null);
        try (Serving serving = serve("disk=" + image, options);
                NbdTestClient client = NbdTestClient.connect(nbdPort(serving), "disk")) {
            long quota = usage(serving) + 4L * CHUNK + CHUNK / 2;
            put(serving, "/exports/disk/quota", "{\"size\":" + quota + ",\"policy\":\"enospc\"}");
            int written = 0;
            int error = 0;
            while (written < 64 && (error = client.write((long) written * CHUNK, CHUNK, (byte) 3)) == 0) {
                written++;
            }
            assertThat(error).as("NBD_ENOSPC").isEqualTo(28);
            assertThat(written).isBetween(1, 4);
            assertThat(usage(serving)).isLessThanOrEqualTo(quota);
            put(serving, "/exports/disk/quota", "{\"size\":\"32M\"}");
            assertThat(client.write((long) written * CHUNK, CHUNK, (byte) 3)).isZero();
        }
    }

    @Test
    void quotaWithPauseHoldsTheWriteUntilTheQuotaIsRaisedThroughTheApi() throws Exception {
        Path image = thinImage();
        try (Serving serving = serve("disk=" + image, options(null));
                NbdTestClient client = NbdTestClient.connect(nbdPort(serving), "disk")) {
            long quota = usage(serving) + CHUNK / 2;
            put(serving, "/exports/disk/quota",
                    "{\"size\":" + quota + ",\"policy\":\"pause\",\"pause-timeout-seconds\":30}");
            var write = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return client.write(0, CHUNK, (byte) 4);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (get(serving, "/exports/disk").path("paused-writers").asInt() == 0) {
                assertThat(System.nanoTime()).as("the write never paused").isLessThan(deadline);
                Thread.sleep(10);
            }
            assertThat(write).isNotDone();
            put(serving, "/exports/disk/quota", "{\"size\":\"32M\"}");
            assertThat(write.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(get(serving, "/exports/disk").path("paused-writers").asInt()).isZero();
        }
    }

    @Test
    void writesPausedOnOneExportDoNotStallAnother() throws Exception {
        Path a = thinImage();
        Path b = dir.resolve("b.img");
        io.tidemark.image.thin.ThinImage.create(b, 64L << 20, CHUNK, false).close();
        try (Serving serving = ServeCommand.startMonitored(
                        List.of(ExportSpec.parse("disk=" + a), ExportSpec.parse("other=" + b)),
                        List.of(ListenAddress.Tcp.parse("127.0.0.1:0")), ClientPolicy.OPEN, options(null),
                        new PrintWriter(new StringWriter()));
                NbdTestClient paused = NbdTestClient.connect(nbdPort(serving), "disk");
                NbdTestClient free = NbdTestClient.connect(nbdPort(serving), "other")) {
            put(serving, "/exports/disk/quota", "{\"size\":" + (usage(serving) + CHUNK / 2)
                    + ",\"policy\":\"pause\",\"pause-timeout-seconds\":30}");
            int queued = 24; // more than the server's disk threads
            for (int i = 0; i < queued; i++) {
                paused.sendWrite((long) i * CHUNK, CHUNK, (byte) 5);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (get(serving, "/exports/disk").path("paused-writers").asInt() == 0) {
                assertThat(System.nanoTime()).as("the write never paused").isLessThan(deadline);
                Thread.sleep(10);
            }
            Thread.sleep(300); // let the other writes queue up behind the paused one
            var other = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return free.write(0, CHUNK, (byte) 6);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            int otherResult;
            try {
                otherResult = other.get(5, TimeUnit.SECONDS);
            } finally {
                put(serving, "/exports/disk/quota", "{\"size\":\"32M\"}");
            }
            assertThat(otherResult).isZero();
            for (int i = 0; i < queued; i++) {
                assertThat(paused.awaitReply()).isZero();
            }
        }
    }
}
