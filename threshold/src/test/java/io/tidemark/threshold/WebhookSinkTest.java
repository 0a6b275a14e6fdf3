package io.tidemark.threshold;

import static io.tidemark.threshold.EventOutboxTest.event;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebhookSinkTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Backoff FAST = new Backoff(Duration.ofMillis(5), Duration.ofMillis(40));

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private WebhookReceiver receiver(int port) throws Exception {
        WebhookReceiver r = new WebhookReceiver(port);
        open.add(r);
        return r;
    }

    private WebhookSink sink(URI url, String secret) throws Exception {
        return sink(url, secret, EventOutbox.DEFAULT_LIMIT);
    }

    private WebhookSink sink(URI url, String secret, int outboxLimit) throws Exception {
        WebhookSink sink = new WebhookSink(
                new WebhookSink.Config(url, secret, FAST, Duration.ofSeconds(5), Duration.ofSeconds(5)),
                EventOutbox.open(dir.resolve("outbox"), EventOutbox.DEFAULT_COMPACT_BYTES, outboxLimit));
        open.add(sink);
        return sink;
    }

    /** The signature computed here, independently of {@link WebhookSigner}. */
    private static String expectedSignature(byte[] key, WebhookReceiver.Request r) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        String signed = r.header("webhook-id") + "." + r.header("webhook-timestamp") + "."
                + new String(r.body(), StandardCharsets.UTF_8);
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
    }

    private static void awaitDelivered(WebhookSink sink, long count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (sink.delivered() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("delivered " + sink.delivered() + " of " + count);
            }
            Thread.sleep(2);
        }
    }

    @Test
    void postsSignedCloudEventsInOrder() throws Exception {
        byte[] key = "a-32-byte-key-for-the-hmac-test!".getBytes(StandardCharsets.US_ASCII);
        WebhookReceiver receiver = receiver(0);
        WebhookSink sink = sink(receiver.url(), "whsec_" + Base64.getEncoder().encodeToString(key));
        for (int i = 1; i <= 3; i++) {
            sink.accept(event("disk", i));
        }
        List<WebhookReceiver.Request> requests = receiver.awaitRequests(3);
        for (int i = 0; i < 3; i++) {
            WebhookReceiver.Request r = requests.get(i);
            assertThat(r.header("Content-Type")).startsWith("application/cloudevents+json");
            assertThat(r.header("webhook-id")).isEqualTo("id-disk-" + (i + 1));
            long ts = Long.parseLong(r.header("webhook-timestamp"));
            assertThat(Math.abs(ts - Instant.now().getEpochSecond())).isLessThan(60);
            assertThat(r.header("webhook-signature")).isEqualTo(expectedSignature(key, r));
            JsonNode ce = JSON.readTree(r.body());
            assertThat(ce.path("specversion").asText()).isEqualTo("1.0");
            assertThat(ce.path("id").asText()).isEqualTo("id-disk-" + (i + 1));
            assertThat(ce.path("type").asText()).isEqualTo("io.tidemark.threshold.exceeded");
            assertThat(ce.path("source").asText()).isEqualTo("/tidemark/exports/disk");
            assertThat(ce.path("subject").asText()).isEqualTo("disk");
            JsonNode data = ce.path("data");
            assertThat(data.path("export").asText()).isEqualTo("disk");
            assertThat(data.path("sequence").asLong()).isEqualTo(i + 1);
            assertThat(data.path("amount-exceeded").asLong()).isEqualTo(10);
            assertThat(data.path("write-threshold").asLong()).isEqualTo(100L * (i + 1));
        }
        awaitDelivered(sink, 3);
        assertThat(sink.pending()).isZero();
    }

    @Test
    void aRawSecretIsUsedAsItsUtf8Bytes() throws Exception {
        WebhookReceiver receiver = receiver(0);
        WebhookSink sink = sink(receiver.url(), "plain secret");
        sink.accept(event("disk", 1));
        WebhookReceiver.Request r = receiver.awaitRequests(1).getFirst();
        assertThat(r.header("webhook-signature"))
                .isEqualTo(expectedSignature("plain secret".getBytes(StandardCharsets.UTF_8), r));
    }

    @Test
    void withoutASecretNothingIsSigned() throws Exception {
        WebhookReceiver receiver = receiver(0);
        WebhookSink sink = sink(receiver.url(), null);
        sink.accept(event("disk", 1));
        WebhookReceiver.Request r = receiver.awaitRequests(1).getFirst();
        assertThat(r.header("webhook-signature")).isNull();
        assertThat(r.header("webhook-id")).isEqualTo("id-disk-1");
    }

    @Test
    void failedAttemptsAreRetriedWithTheSameIdUntilAccepted() throws Exception {
        WebhookReceiver receiver = receiver(0);
        receiver.then(500, null);
        receiver.then(429, null);
        receiver.then(404, null);
        WebhookSink sink = sink(receiver.url(), "s");
        sink.accept(event("disk", 1));
        sink.accept(event("disk", 2));
        List<WebhookReceiver.Request> requests = receiver.awaitRequests(5);
        assertThat(requests).extracting(r -> r.header("webhook-id"))
                .containsExactly("id-disk-1", "id-disk-1", "id-disk-1", "id-disk-1", "id-disk-2");
        awaitDelivered(sink, 2);
        assertThat(sink.retried()).isEqualTo(3);
    }

    @Test
    void retryAfterIsHonoured() throws Exception {
        WebhookReceiver receiver = receiver(0);
        receiver.then(503, "1");
        WebhookSink sink = sink(receiver.url(), null);
        sink.accept(event("disk", 1));
        List<WebhookReceiver.Request> requests = receiver.awaitRequests(2);
        // The configured backoff is at most 40 ms; only Retry-After explains a gap of a second.
        assertThat(Duration.ofNanos(requests.get(1).nanoTime() - requests.get(0).nanoTime()))
                .isGreaterThanOrEqualTo(Duration.ofMillis(990));
    }

    @Test
    void goneDisablesTheEndpointAndKeepsTheEvents() throws Exception {
        WebhookReceiver receiver = receiver(0);
        receiver.then(410, null);
        WebhookSink sink = sink(receiver.url(), null);
        sink.accept(event("disk", 1));
        receiver.awaitRequests(1);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!sink.disabled() && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertThat(sink.disabled()).isTrue();
        sink.accept(event("disk", 2));
        Thread.sleep(200);
        assertThat(receiver.requests()).hasSize(1);
        assertThat(sink.pending()).isEqualTo(2);
    }

    @Test
    void aReceiverThatIsDownThenUpGetsEveryEventInOrder() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        WebhookSink sink = sink(URI.create("http://127.0.0.1:" + port + "/hook"), null);
        for (int i = 1; i <= 10; i++) {
            sink.accept(event("a", i));
            sink.accept(event("b", i));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (sink.retried() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertThat(sink.retried()).isGreaterThanOrEqualTo(3);
        assertThat(sink.delivered()).isZero();

        WebhookReceiver receiver = receiver(port);
        awaitDelivered(sink, 20);
        assertSequencesInOrder(receiver.requests(), 10);
    }

    @Test
    void theOutboxSurvivesARestartOfTheSink() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        URI url = URI.create("http://127.0.0.1:" + port + "/hook");
        WebhookSink first = sink(url, null);
        for (int i = 1; i <= 10; i++) {
            first.accept(event("a", i));
            first.accept(event("b", i));
        }
        first.close();
        open.remove(first);

        WebhookReceiver receiver = receiver(port);
        WebhookSink second = sink(url, null);
        awaitDelivered(second, 20);
        assertThat(second.pending()).isZero();
        assertSequencesInOrder(receiver.requests(), 10);
    }

    private static void assertSequencesInOrder(List<WebhookReceiver.Request> requests, int perExport) throws Exception {
        List<Long> a = new ArrayList<>();
        List<Long> b = new ArrayList<>();
        for (WebhookReceiver.Request r : requests) {
            JsonNode data = JSON.readTree(r.body()).path("data");
            (data.path("export").asText().equals("a") ? a : b).add(data.path("sequence").asLong());
        }
        List<Long> expected = java.util.stream.LongStream.rangeClosed(1, perExport).boxed().toList();
        assertThat(a).containsExactlyElementsOf(expected);
        assertThat(b).containsExactlyElementsOf(expected);
    }

    @Test
    void anEventAFullOutboxFoldedOthersIntoSaysHowManyInItsCoalescedAttribute() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        WebhookSink sink = sink(URI.create("http://127.0.0.1:" + port + "/hook"), null, 2);
        for (int i = 1; i <= 5; i++) { // a1 stays the oldest; a3, a4, a5 each replace the newest
            sink.accept(event("a", i));
        }
        assertThat(sink.pending()).isEqualTo(2);
        assertThat(sink.coalesced()).isEqualTo(3);
        WebhookReceiver receiver = receiver(port);
        List<WebhookReceiver.Request> requests = receiver.awaitRequests(2);
        JsonNode first = JSON.readTree(requests.get(0).body());
        JsonNode second = JSON.readTree(requests.get(1).body());
        assertThat(first.path("sequence").asText()).isEqualTo("1");
        assertThat(first.has("coalesced")).isFalse();
        assertThat(second.path("sequence").asText()).isEqualTo("5");
        assertThat(second.path("coalesced").asLong()).isEqualTo(3); // a2, a3, a4: the gap 1 -> 5
        assertThat(second.path("data").path("usage").asLong()).isEqualTo(510);
        awaitDelivered(sink, 2);
        assertThat(sink.pending()).isZero();
    }
}
