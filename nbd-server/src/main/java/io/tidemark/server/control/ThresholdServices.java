package io.tidemark.server.control;

import io.tidemark.image.BlockDevice;
import io.tidemark.threshold.Backoff;
import io.tidemark.threshold.EventFanout;
import io.tidemark.threshold.EventOutbox;
import io.tidemark.threshold.EventSink;
import io.tidemark.threshold.EventStreamHub;
import io.tidemark.threshold.ExportState;
import io.tidemark.threshold.LogSink;
import io.tidemark.threshold.Quota;
import io.tidemark.threshold.StateDirectory;
import io.tidemark.threshold.ThresholdMonitor;
import io.tidemark.threshold.ThresholdSetting;
import io.tidemark.threshold.ThresholdStatus;
import io.tidemark.threshold.WebhookSink;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything {@code serve} needs around its exports for thresholds: the state directory, the
 * sinks (event log, webhook with its outbox, the stream hub), the metrics, one monitor per export
 * and the control API. Built from the command line, closed when the server stops.
 */
public final class ThresholdServices implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ThresholdServices.class);

    /**
     * @param stateDir      thresholds, quotas and the webhook outbox; null keeps them in memory only
     * @param webhook       where events are posted, or null
     * @param webhookSecret {@code whsec_<base64>} or a raw string; null sends unsigned
     * @param eventLog      a file for one JSON line per event, {@code -} for standard output, or null
     * @param delivery      how the webhook retries and how many events its outbox holds
     */
    public record Options(Path stateDir, URI webhook, String webhookSecret, String eventLog, Delivery delivery) {

        public Options(Path stateDir, URI webhook, String webhookSecret, String eventLog) {
            this(stateDir, webhook, webhookSecret, eventLog, Delivery.DEFAULT);
        }
    }

    /**
     * @param backoff        delays between failed webhook attempts
     * @param requestTimeout how long one webhook attempt may take
     * @param outboxLimit    pending events beyond which the outbox coalesces per export
     */
    public record Delivery(Backoff backoff, Duration requestTimeout, int outboxLimit) {
        public static final Delivery DEFAULT =
                new Delivery(Backoff.DEFAULT, WebhookSink.Config.DEFAULT_REQUEST_TIMEOUT, EventOutbox.DEFAULT_LIMIT);
    }

    private final StateDirectory state;
    private final EventStreamHub hub = new EventStreamHub();
    private final EventFanout fanout;
    private final WebhookSink webhook;
    private final LogSink eventLog;
    private final TidemarkMetrics metrics = new TidemarkMetrics();
    private final List<ThresholdMonitor> monitors = new ArrayList<>();
    private ControlServer control;

    private ThresholdServices(StateDirectory state, WebhookSink webhook, LogSink eventLog) {
        this.state = state;
        this.webhook = webhook;
        this.eventLog = eventLog;
        List<EventSink> sinks = new ArrayList<>();
        sinks.add(hub);
        if (eventLog != null) {
            sinks.add(eventLog);
        }
        if (webhook != null) {
            sinks.add(webhook);
        }
        this.fanout = new EventFanout(sinks);
        metrics.bindEvents(fanout, webhook);
    }

    public static ThresholdServices start(Options options) throws IOException {
        StateDirectory state = options.stateDir() == null ? null : new StateDirectory(options.stateDir());
        if (options.webhookSecret() != null && options.webhook() == null) {
            throw new IllegalArgumentException("--webhook-secret needs --webhook");
        }
        LogSink eventLog = options.eventLog() == null ? null : LogSink.open(options.eventLog());
        WebhookSink webhook = null;
        if (options.webhook() != null) {
            Path outboxDir;
            if (state != null) {
                outboxDir = state.root().resolve("outbox");
            } else {
                outboxDir = Files.createTempDirectory("tidemark-outbox");
                log.warn("no --state-dir: undelivered webhook events are kept in {} and lost if the server restarts",
                        outboxDir);
            }
            Delivery delivery = options.delivery();
            WebhookSink.Config config = WebhookSink.Config.of(options.webhook(), options.webhookSecret())
                    .withRetries(delivery.backoff(), delivery.requestTimeout());
            webhook = new WebhookSink(config,
                    EventOutbox.open(outboxDir, EventOutbox.DEFAULT_COMPACT_BYTES, delivery.outboxLimit()));
            log.info("webhook {}{}, {} events pending (outbox limit {})", options.webhook(),
                    options.webhookSecret() == null ? " (unsigned)" : " (signed)", webhook.pending(),
                    delivery.outboxLimit());
        }
        return new ThresholdServices(state, webhook, eventLog);
    }

    /**
     * Starts watching an export's device. State saved by a previous run wins; the command line's
     * {@code threshold=} and {@code quota=} seed an export that has no such state yet. Armed
     * thresholds the current usage exceeds fire at once.
     *
     * @param threshold the command line's default threshold, or null
     * @param quota     the command line's quota, or null
     */
    public ThresholdMonitor watch(String export, BlockDevice device, ThresholdSetting threshold, Quota quota)
            throws IOException {
        ExportState saved = state == null ? ExportState.EMPTY : state.load(export).orElse(ExportState.EMPTY);
        List<ThresholdStatus> thresholds = new ArrayList<>(saved.thresholds());
        if (threshold != null && thresholds.stream().noneMatch(t -> t.setting().name().equals(threshold.name()))) {
            thresholds.add(new ThresholdStatus(threshold, 0, true, 0, null));
        }
        Quota effectiveQuota = saved.quota() != null ? saved.quota() : quota;
        ExportState initial = new ExportState(thresholds, effectiveQuota, saved.nextSequence());
        ThresholdMonitor monitor = ThresholdMonitor.start(export, device.size(), device::usage, device.usage(), initial,
                state == null ? ThresholdMonitor.StateStore.NONE : state.storeFor(export), fanout);
        synchronized (monitors) {
            monitors.add(monitor);
        }
        return monitor;
    }

    /** Registers an export's gauges; call once per export after {@link #watch}. */
    public void bindMetrics(ControlledExport export) {
        metrics.bindExport(export);
    }

    public ControlServer startControl(InetSocketAddress address, ExportCatalog catalog, String token)
            throws InterruptedException {
        control = ControlServer.start(address, catalog, hub, metrics, token);
        return control;
    }

    public TidemarkMetrics metrics() {
        return metrics;
    }

    public EventStreamHub hub() {
        return hub;
    }

    public EventFanout events() {
        return fanout;
    }

    public Optional<WebhookSink> webhook() {
        return Optional.ofNullable(webhook);
    }

    /**
     * Stops the control API, lets every monitor hand its last events to the sinks, then closes
     * the sinks (the outbox keeps what the webhook has not delivered).
     */
    @Override
    public void close() throws IOException {
        if (control != null) {
            control.close();
        }
        synchronized (monitors) {
            for (ThresholdMonitor m : monitors) {
                try {
                    m.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        closeQuietly(webhook);
        closeQuietly(eventLog);
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            log.warn("closing {}: {}", c.getClass().getSimpleName(), e.getMessage());
        }
    }
}
