package io.tidemark.server.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.tidemark.threshold.Quota;
import io.tidemark.threshold.QuotaPolicy;
import io.tidemark.threshold.ThresholdMonitor;
import io.tidemark.threshold.ThresholdSetting;
import io.tidemark.threshold.ThresholdValue;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The services {@code serve} assembles: sinks, state and restarts, without the NBD protocol. */
class ThresholdServicesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4, 5, 6});

    @TempDir
    Path dir;

    /** Bodies whose signature verified, in arrival order. */
    private final List<JsonNode> received = new ArrayList<>();
    private int badSignatures;

    private HttpServer receiver(int port) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            String ts = exchange.getRequestHeaders().getFirst("webhook-timestamp");
            String sig = exchange.getRequestHeaders().getFirst("webhook-signature");
            synchronized (this) {
                if (sig != null && sig.equals(sign(id + "." + ts + "." + new String(body, StandardCharsets.UTF_8)))) {
                    received.add(JSON.readTree(body));
                } else {
                    badSignatures++;
                }
                notifyAll();
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        return server;
    }

    private static String sign(String content) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(SECRET.substring(6)), "HmacSHA256"));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized List<JsonNode> awaitReceived(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (received.size() < count) {
            long left = deadline - System.nanoTime();
            assertThat(left).as("received %d of %d", received.size(), count).isPositive();
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return List.copyOf(received);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void eventsReachLogAndWebhookAndSurviveARestartWhileTheReceiverIsDown() throws Exception {
        int port = freePort();
        Path log = dir.resolve("events.jsonl");
        ThresholdServices.Options options = new ThresholdServices.Options(dir.resolve("state"),
                URI.create("http://127.0.0.1:" + port + "/hook"), SECRET, log.toString());
        ThresholdSetting fromCli = new ThresholdSetting(ThresholdSetting.DEFAULT_NAME, ThresholdValue.parse("8K"), 0);

        MemoryDevice device = new MemoryDevice(1 << 20);
        try (ThresholdServices services = ThresholdServices.start(options)) {
            ThresholdMonitor monitor = services.watch("disk", device, fromCli,
                    new Quota(1 << 19, QuotaPolicy.ENOSPC));
            device.listener(monitor);
            monitor.arm(new ThresholdSetting("high", ThresholdValue.parse("64K"), 0));
            device.write(0, ByteBuffer.allocate(16 << 10), false); // fires "default" only
            monitor.awaitIdle();
            assertThat(Files.readAllLines(log)).hasSize(1);
            assertThat(services.webhook().orElseThrow().pending()).isEqualTo(1); // receiver is down
        }

        // Restart: the usage grew while we were down (another writer); "high" is still armed and
        // fires on start, "default" stays cleared, the quota came from the state directory.
        device.write(0, ByteBuffer.allocate(100 << 10), false);
        HttpServer server = receiver(port);
        try (ThresholdServices services = ThresholdServices.start(options)) {
            ThresholdMonitor monitor = services.watch("disk", device, fromCli, null);
            device.listener(monitor);
            assertThat(monitor.quota()).contains(new Quota(1 << 19, QuotaPolicy.ENOSPC));
            List<JsonNode> events = awaitReceived(2);
            assertThat(events).extracting(e -> e.path("data").path("threshold").asText())
                    .containsExactly("default", "high");
            assertThat(events).extracting(e -> e.path("data").path("sequence").asLong()).containsExactly(1L, 2L);
            JsonNode high = events.get(1).path("data");
            assertThat(high.path("write-threshold").asLong()).isEqualTo(64 << 10);
            assertThat(high.path("amount-exceeded").asLong()).isEqualTo((100 << 10) - (64 << 10));
            assertThat(high.path("quota").asLong()).isEqualTo(1 << 19);
            assertThat(badSignatures).isZero();
            assertThat(monitor.thresholds()).extracting(t -> t.state()).containsExactly("cleared", "cleared");
        } finally {
            server.stop(0);
        }
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).hasSize(2);
        assertThat(JSON.readTree(lines.get(1)).path("threshold").asText()).isEqualTo("high");
    }
}
