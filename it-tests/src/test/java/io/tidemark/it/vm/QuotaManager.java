package io.tidemark.it.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The storage manager of the thin-provisioning loop, as small as it can be: it receives tidemark's
 * webhook and, for each new event, raises the export's quota by one step and re-arms the threshold
 * one headroom below the new quota, through the control API. Events are deduplicated by id (delivery
 * is at least once) and handled one at a time, in the order they arrive.
 *
 * <p>The manager is deliberately late once: it answers the first event only after the export reports
 * a writer paused at the quota, so that the run shows the pause policy holding a real guest's write
 * (a prompt manager would always win the race against the 64 MiB headroom).
 */
final class QuotaManager implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EVENT_TYPE = "io.tidemark.threshold.exceeded";
    private static final String THRESHOLD = "default";
    private static final Duration API_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long the first extension waits for a paused writer. The server's 60 s pause timeout runs
     * from the moment a write is held, and the manager extends within a poll interval of seeing it,
     * so this bounds only how slowly the guest may reach the quota.
     */
    private static final Duration LATE_LIMIT = Duration.ofSeconds(120);

    /** One event and what the manager did about it. */
    record Extension(String eventId, long writeThreshold, long usage, long quotaAtEvent, long newQuota) {
    }

    private final String export;
    private final long step;
    private final long headroom;
    private final HttpServer webhook;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(API_TIMEOUT).build();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "quota-manager"));
    private final Set<String> seen = new HashSet<>();
    private final List<Extension> extensions = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private String controlAddress;
    private long quota;
    private int deliveries;
    private int pausedWritersSeen;

    /**
     * @param step     how much each event adds to the quota
     * @param headroom how far below the quota the threshold is armed
     */
    QuotaManager(String export, long step, long headroom) throws IOException {
        this.export = export;
        this.step = step;
        this.headroom = headroom;
        this.webhook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        webhook.createContext("/hook", this::receive);
        webhook.start();
    }

    URI webhookUri() {
        return URI.create("http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook");
    }

    /** Takes charge of the export: quota {@code initialQuota} with policy pause, threshold armed below it. */
    void manage(String controlAddress, long initialQuota) throws IOException, InterruptedException {
        synchronized (this) {
            this.controlAddress = controlAddress;
            this.quota = initialQuota;
        }
        apply(initialQuota);
    }

    synchronized List<Extension> extensions() {
        return List.copyOf(extensions);
    }

    /** Webhook requests received, redeliveries included. */
    synchronized int deliveries() {
        return deliveries;
    }

    synchronized List<String> problems() {
        return List.copyOf(problems);
    }

    /** The paused writers the export reported while the manager held back its first extension. */
    synchronized int pausedWritersSeen() {
        return pausedWritersSeen;
    }

    synchronized long quota() {
        return quota;
    }

    /** The export as the control API reports it now. */
    JsonNode exportState() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(exportUri("")).timeout(API_TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET /exports/" + export + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /** An unlabelled sample from the server's Prometheus metrics, e.g. {@code tidemark_events_emitted_total}. */
    double metric(String name) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + controlAddress() + "/metrics"))
                .timeout(API_TIMEOUT).build();
        String text = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).strip());
            }
        }
        throw new IOException("no metric " + name + " in:\n" + text);
    }

    @Override
    public void close() throws InterruptedException {
        webhook.stop(0);
        worker.shutdownNow();
        worker.awaitTermination(10, TimeUnit.SECONDS);
        http.close();
    }

    private void receive(HttpExchange exchange) throws IOException {
        try (exchange; InputStream body = exchange.getRequestBody()) {
            String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
            int status = accept(text) ? 204 : 400;
            exchange.sendResponseHeaders(status, -1);
        }
    }

    /** Records one delivery and queues the extension for a new event; false for anything not our event. */
    private synchronized boolean accept(String text) {
        deliveries++;
        JsonNode event;
        try {
            event = JSON.readTree(text);
        } catch (IOException e) {
            problems.add("webhook body is not JSON: " + text);
            return false;
        }
        JsonNode data = event.path("data");
        if (!EVENT_TYPE.equals(event.path("type").asText()) || !export.equals(data.path("export").asText())) {
            problems.add("unexpected webhook: " + text);
            return false;
        }
        if (seen.add(data.path("id").asText())) {
            worker.execute(() -> extend(data));
        }
        return true;
    }

    private void extend(JsonNode event) {
        long newQuota;
        boolean first;
        synchronized (this) {
            newQuota = quota + step;
            first = extensions.isEmpty();
        }
        try {
            if (first) {
                awaitPausedWriter();
            }
            apply(newQuota);
            synchronized (this) {
                extensions.add(new Extension(event.path("id").asText(), event.path("write-threshold").asLong(),
                        event.path("usage").asLong(), event.path("quota").asLong(), newQuota));
                quota = newQuota;
            }
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                problems.add("raising the quota to " + newQuota + " failed: " + e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitPausedWriter() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + LATE_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            int paused = exportState().path("paused-writers").asInt();
            if (paused > 0) {
                synchronized (this) {
                    pausedWritersSeen = paused;
                }
                return;
            }
            Thread.sleep(100);
        }
    }

    /** Quota first, then the threshold below it: raising the quota is what releases paused writers. */
    private void apply(long newQuota) throws IOException, InterruptedException {
        put("/quota", "{\"size\":" + newQuota + ",\"policy\":\"pause\"}");
        put("/thresholds/" + THRESHOLD, "{\"value\":\"" + (newQuota - headroom) + "\"}");
    }

    private void put(String path, String json) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(exportUri(path))
                .timeout(API_TIMEOUT)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IOException("PUT " + request.uri() + " " + json + " answered " + response.statusCode() + ": "
                    + response.body());
        }
    }

    private synchronized URI exportUri(String path) {
        return URI.create("http://" + controlAddress + "/exports/" + export + path);
    }

    private synchronized String controlAddress() {
        return controlAddress;
    }
}
