package io.tidemark.threshold;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events to one HTTP endpoint, at least once and in order.
 *
 * <p>{@link #accept} only appends the event to the durable {@link EventOutbox}; a delivery thread
 * posts the oldest pending event until the receiver answers 2xx, then marks it delivered and
 * moves on. Delivering strictly oldest-first keeps each export's events in sequence order. A
 * failed attempt (no connection, timeout, any other status) is retried after an exponential
 * backoff with jitter, or after the receiver's {@code Retry-After}. {@code 410 Gone} disables the
 * endpoint (Standard Webhooks' way to unsubscribe): events stay in the outbox, nothing more is
 * sent until the server restarts.
 *
 * <p>Each request is a CloudEvents 1.0 structured JSON event with the Standard Webhooks headers
 * {@code webhook-id} (the event id, unchanged across retries so receivers deduplicate),
 * {@code webhook-timestamp} and, when a secret is set, {@code webhook-signature}.
 */
public final class WebhookSink implements EventSink, Closeable {

    private static final Logger log = LoggerFactory.getLogger(WebhookSink.class);

    /**
     * @param url            where events are posted
     * @param secret         the signing secret ({@code whsec_<base64>} or raw), or null to send unsigned
     * @param backoff        delays between attempts
     * @param maxRetryAfter  the longest {@code Retry-After} honoured
     * @param requestTimeout how long one attempt may take
     */
    public record Config(URI url, String secret, Backoff backoff, Duration maxRetryAfter, Duration requestTimeout) {
        public Config {
            Objects.requireNonNull(url, "url");
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                throw new IllegalArgumentException("webhook URL must be http or https: " + url);
            }
            Objects.requireNonNull(backoff, "backoff");
            Objects.requireNonNull(maxRetryAfter, "maxRetryAfter");
            Objects.requireNonNull(requestTimeout, "requestTimeout");
        }

        public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

        public static Config of(URI url, String secret) {
            return new Config(url, secret, Backoff.DEFAULT, Duration.ofMinutes(10), DEFAULT_REQUEST_TIMEOUT);
        }

        /** This configuration with other retry delays and another time limit per attempt. */
        public Config withRetries(Backoff newBackoff, Duration newRequestTimeout) {
            return new Config(url, secret, newBackoff, maxRetryAfter, newRequestTimeout);
        }
    }

    private sealed interface Outcome {
        record Delivered() implements Outcome {
        }

        record Gone() implements Outcome {
        }

        record Retry(Duration after, String reason) implements Outcome {
        }
    }

    private final Config config;
    private final EventOutbox outbox;
    private final WebhookSigner signer;
    private final HttpClient client;
    private final Clock clock;
    private final Thread deliverer;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean work;
    private volatile boolean running = true;
    private volatile boolean disabled;
    private volatile CompletableFuture<?> inFlight;

    /** Consecutive failed attempts for the oldest event; touched only by the delivery thread. */
    private int failures;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong retried = new AtomicLong();

    public WebhookSink(Config config, EventOutbox outbox) {
        this(config, outbox, Clock.systemUTC());
    }

    WebhookSink(Config config, EventOutbox outbox, Clock clock) {
        this.config = config;
        this.outbox = outbox;
        this.clock = clock;
        this.signer = config.secret() == null ? null : new WebhookSigner(config.secret());
        this.client = HttpClient.newBuilder().connectTimeout(config.requestTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.work = true;
        this.deliverer = Thread.ofPlatform().daemon().name("webhook-delivery").start(this::deliverLoop);
    }

    @Override
    public void accept(ThresholdEvent event) {
        try {
            outbox.append(event);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record event in the outbox: " + e.getMessage(), e);
        }
        signal();
    }

    public long delivered() {
        return delivered.get();
    }

    /** Failed attempts that will be (or were) retried. */
    public long retried() {
        return retried.get();
    }

    public int pending() {
        return outbox.pending();
    }

    /** Events a full outbox folded into later ones of their export since start. */
    public long coalesced() {
        return outbox.coalescedTotal();
    }

    /** True after the receiver answered 410 Gone. */
    public boolean disabled() {
        return disabled;
    }

    public URI url() {
        return config.url();
    }

    @Override
    public void close() throws IOException {
        running = false;
        signal();
        // Not Thread.interrupt(): that would close the outbox's FileChannel under a write.
        CompletableFuture<?> call = inFlight;
        if (call != null) {
            call.cancel(true);
        }
        try {
            deliverer.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        outbox.close();
    }

    private void signal() {
        lock.lock();
        try {
            work = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void deliverLoop() {
        while (running) {
            Optional<ThresholdEvent> next = disabled ? Optional.empty() : outbox.oldest();
            if (next.isEmpty()) {
                awaitWork();
                continue;
            }
            ThresholdEvent event = next.get();
            switch (attempt(event)) {
                case Outcome.Delivered d -> {
                    failures = 0;
                    delivered.incrementAndGet();
                    markDelivered(event);
                }
                case Outcome.Gone g -> {
                    disabled = true;
                    log.warn("webhook {} answered 410 Gone: endpoint disabled, {} events stay in the outbox",
                            config.url(), outbox.pending());
                }
                case Outcome.Retry r -> {
                    retried.incrementAndGet();
                    log.info("webhook {}: event {} of export {} not delivered ({}), retry in {} ms", config.url(),
                            event.sequence(), event.export(), r.reason(), r.after().toMillis());
                    failures++;
                    pause(r.after());
                }
            }
        }
    }

    private void markDelivered(ThresholdEvent event) {
        try {
            outbox.markDelivered(event.id());
        } catch (IOException e) {
            // The event will be sent again after a restart: at-least-once still holds.
            log.error("outbox: cannot mark event {} delivered: {}", event.id(), e.getMessage());
        }
    }

    private Outcome attempt(ThresholdEvent event) {
        byte[] body = CloudEventEncoder.encode(event, outbox.coalesced(event.id()));
        long timestamp = clock.instant().getEpochSecond();
        HttpRequest.Builder request = HttpRequest.newBuilder(config.url())
                .timeout(config.requestTimeout())
                .header("Content-Type", CloudEventEncoder.CONTENT_TYPE)
                .header("User-Agent", "tidemark")
                .header("webhook-id", event.id())
                .header("webhook-timestamp", Long.toString(timestamp))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signer != null) {
            request.header("webhook-signature", signer.sign(event.id(), timestamp, body));
        }
        HttpResponse<Void> response;
        CompletableFuture<HttpResponse<Void>> call =
                client.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding());
        inFlight = call;
        try {
            if (!running) {
                call.cancel(true);
            }
            response = call.join();
        } catch (CancellationException e) {
            return new Outcome.Retry(Duration.ZERO, "cancelled at shutdown");
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return new Outcome.Retry(backoff(), cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
        } finally {
            inFlight = null;
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return new Outcome.Delivered();
        }
        if (status == 410) {
            return new Outcome.Gone();
        }
        Duration after = retryAfter(response).orElseGet(() -> backoff());
        return new Outcome.Retry(after, "HTTP " + status);
    }

    private Duration backoff() {
        return config.backoff().delay(failures, ThreadLocalRandom.current());
    }

    private Optional<Duration> retryAfter(HttpResponse<?> response) {
        Optional<String> header = response.headers().firstValue("Retry-After");
        if (header.isEmpty()) {
            return Optional.empty();
        }
        String value = header.get().strip();
        Duration after;
        try {
            after = Duration.ofSeconds(Long.parseLong(value));
        } catch (NumberFormatException notSeconds) {
            try {
                after = Duration.between(clock.instant(),
                        ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            } catch (DateTimeParseException notDate) {
                log.debug("webhook {}: ignoring unparsable Retry-After '{}'", config.url(), value);
                return Optional.empty();
            }
        }
        if (after.isNegative()) {
            after = Duration.ZERO;
        }
        return Optional.of(after.compareTo(config.maxRetryAfter()) > 0 ? config.maxRetryAfter() : after);
    }

    private void awaitWork() {
        lock.lock();
        try {
            while (running && !work) {
                changed.await();
            }
            work = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }

    private void pause(Duration delay) {
        long deadline = System.nanoTime() + delay.toNanos();
        lock.lock();
        try {
            long left;
            while (running && (left = deadline - System.nanoTime()) > 0) {
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }
}
