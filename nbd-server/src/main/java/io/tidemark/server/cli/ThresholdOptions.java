package io.tidemark.server.cli;

import io.tidemark.server.control.ControlServer;
import io.tidemark.server.control.ThresholdServices;
import io.tidemark.server.nbd.ListenAddress;
import io.tidemark.threshold.Backoff;
import io.tidemark.threshold.EventOutbox;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** The options of {@code serve} for thresholds, events and the control API. */
final class ThresholdOptions {

    private static final Logger log = LoggerFactory.getLogger(ThresholdOptions.class);

    static final String DEFAULT_CONTROL = "127.0.0.1:10810";

    @Option(names = "--control", paramLabel = "HOST:PORT", description = {
        "Control API and metrics address, or 'off'. Default " + DEFAULT_CONTROL + ", skipped with a",
        "warning when that port is taken (another tidemark); an address given here must bind."})
    String control;

    @Option(names = "--control-token", paramLabel = "TOKEN", defaultValue = "${env:TIDEMARK_CONTROL_TOKEN}",
            description = "Bearer token the control API requires (default: $TIDEMARK_CONTROL_TOKEN, else none).")
    String token;

    @Option(names = "--webhook", paramLabel = "URL", description = "POST each event (CloudEvents JSON) here.")
    URI webhook;

    @Option(names = "--webhook-secret", paramLabel = "S", description = {
        "Sign webhooks (Standard Webhooks, HMAC-SHA256). 'whsec_<base64>' is decoded to the key;",
        "any other string is used as its UTF-8 bytes."})
    String webhookSecret;

    @Option(names = "--event-log", paramLabel = "FILE", description = "Append one JSON line per event; '-' is stdout.")
    String eventLog;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Keep thresholds, quotas and undelivered webhook events here across restarts.")
    Path stateDir;

    @Option(names = "--webhook-retry-ms", paramLabel = "FIRST,MAX", description = {
        "Delay before the first webhook retry and the most it doubles to, in milliseconds",
        "(default 500,60000; each delay is drawn from the upper half)."})
    String webhookRetryMs;

    @Option(names = "--webhook-timeout-ms", paramLabel = "MS",
            description = "Time limit of one webhook attempt, in milliseconds (default 10000).")
    Long webhookTimeoutMs;

    @Option(names = "--outbox-limit", paramLabel = "EVENTS", description = {
        "Undelivered webhook events kept before new ones replace their export's newest pending one",
        "and count it in a 'coalesced' attribute (default " + EventOutbox.DEFAULT_LIMIT + ")."})
    Integer outboxLimit;

    /** The demo's settings: events to stdout, state next to the demo image, the default control address. */
    static ThresholdOptions forDemo(Path stateDir, String control) {
        ThresholdOptions options = new ThresholdOptions();
        options.control = control;
        options.eventLog = "-";
        options.stateDir = stateDir;
        return options;
    }

    ThresholdServices startServices() throws IOException {
        return ThresholdServices.start(new ThresholdServices.Options(stateDir, webhook, webhookSecret, eventLog,
                delivery()));
    }

    private ThresholdServices.Delivery delivery() {
        ThresholdServices.Delivery defaults = ThresholdServices.Delivery.DEFAULT;
        Backoff backoff = defaults.backoff();
        if (webhookRetryMs != null) {
            backoff = parseBackoff(webhookRetryMs);
        }
        if (webhookTimeoutMs != null && webhookTimeoutMs <= 0) {
            throw new IllegalArgumentException("--webhook-timeout-ms must be positive, got " + webhookTimeoutMs);
        }
        if (outboxLimit != null && outboxLimit < 1) {
            throw new IllegalArgumentException("--outbox-limit must be at least 1 event, got " + outboxLimit);
        }
        return new ThresholdServices.Delivery(backoff,
                webhookTimeoutMs == null ? defaults.requestTimeout() : Duration.ofMillis(webhookTimeoutMs),
                outboxLimit == null ? defaults.outboxLimit() : outboxLimit);
    }

    private static Backoff parseBackoff(String value) {
        String[] parts = value.split(",", -1);
        try {
            if (parts.length == 2) {
                return new Backoff(Duration.ofMillis(Long.parseLong(parts[0].strip())),
                        Duration.ofMillis(Long.parseLong(parts[1].strip())));
            }
        } catch (NumberFormatException e) {
            // reported below, with the whole value
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--webhook-retry-ms " + value + ": " + e.getMessage());
        }
        throw new IllegalArgumentException("--webhook-retry-ms takes FIRST,MAX in milliseconds (e.g. 500,60000), got '"
                + value + "'");
    }

    /**
     * The control API changes quotas and thresholds of whole disks: anywhere but loopback it must
     * not run without a bearer token.
     */
    static void requireTokenBeyondLoopback(ListenAddress.Tcp address, String token) {
        if (token != null && !token.isBlank()) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(address.host()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--control " + address.host() + ": unknown host");
        }
        if (!loopback) {
            throw new IllegalArgumentException("--control " + address.host() + ":" + address.port()
                    + " is reachable from other hosts: give --control-token TOKEN (or set TIDEMARK_CONTROL_TOKEN)");
        }
    }

    /** Starts the control API unless it is 'off'; null when off (or the default port is taken). */
    ControlServer startControl(ThresholdServices services, MonitoredExports exports) throws InterruptedException {
        if ("off".equalsIgnoreCase(control)) {
            return null;
        }
        ListenAddress.Tcp address = ListenAddress.Tcp.parse(control == null ? DEFAULT_CONTROL : control);
        requireTokenBeyondLoopback(address, token);
        try {
            return services.startControl(new InetSocketAddress(address.host(), address.port()), exports::exports,
                    token == null || token.isBlank() ? null : token);
        } catch (IllegalStateException e) {
            if (control != null) {
                throw e;
            }
            log.warn("{}; running without it (give --control HOST:PORT to choose another address)", e.getMessage());
            return null;
        }
    }
}
