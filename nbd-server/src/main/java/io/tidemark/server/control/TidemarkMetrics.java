package io.tidemark.server.control;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tidemark.threshold.EventFanout;
import io.tidemark.threshold.WebhookSink;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * The server's Prometheus metrics: NBD requests per export and command (count, bytes, latency
 * histogram), errors by NBD error name, usage/allocated/quota/connection gauges per export, and
 * the event pipeline (emitted, delivered, retried, pending).
 */
public final class TidemarkMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentMap<String, CommandMeters> commands = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> errors = new ConcurrentHashMap<>();

    /** Meters of one (export, command) pair, created once so recording allocates nothing. */
    public static final class CommandMeters {
        private final Timer latency;
        private final Counter bytes;

        private CommandMeters(Timer latency, Counter bytes) {
            this.latency = latency;
            this.bytes = bytes;
        }

        public void record(long byteCount, long nanos) {
            latency.record(nanos, TimeUnit.NANOSECONDS);
            if (byteCount > 0) {
                bytes.increment(byteCount);
            }
        }
    }

    /** The meters for {@code command} (an NBD command name such as "write") on {@code export}. */
    public CommandMeters command(String export, String command) {
        return commands.computeIfAbsent(export + '\0' + command, key -> new CommandMeters(
                Timer.builder("tidemark.requests")
                        .description("NBD requests served, by export and command")
                        .tags("export", export, "command", command)
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofNanos(10_000))
                        .maximumExpectedValue(Duration.ofSeconds(10))
                        .register(registry),
                Counter.builder("tidemark.request.bytes")
                        .description("payload bytes read or written, by export and command")
                        .baseUnit("bytes")
                        .tags("export", export, "command", command)
                        .register(registry)));
    }

    /** Counts a request that failed with NBD error {@code error} (e.g. "ENOSPC"). */
    public void error(String export, String command, String error) {
        errors.computeIfAbsent(export + '\0' + command + '\0' + error, key -> Counter.builder("tidemark.request.errors")
                .description("NBD requests answered with an error, by NBD error")
                .tags("export", export, "command", command, "error", error)
                .register(registry)).increment();
    }

    /** Registers the gauges of an export. */
    public void bindExport(ControlledExport export) {
        String name = export.name();
        gauge("tidemark.export.usage", "physical high-water mark of the image", name, export,
                e -> e.monitor().usage()); // never blocks, unlike a device paused at its quota
        gauge("tidemark.export.allocated", "bytes reported allocated by the allocation layer", name, export,
                e -> e.monitor().allocatedBytes());
        gauge("tidemark.export.quota", "physical limit, 0 without one", name, export,
                e -> e.monitor().quota().map(q -> q.bytes()).orElse(0L));
        gauge("tidemark.export.size", "virtual size", name, export, e -> e.device().size());
        Gauge.builder("tidemark.export.connections", export, e -> e.connections())
                .description("open client connections").tag("export", name).strongReference(true).register(registry);
        Gauge.builder("tidemark.export.paused.writers", export, e -> e.monitor().pausedWriters())
                .description("writes waiting for the quota to be raised").tag("export", name)
                .strongReference(true).register(registry);
    }

    /** Registers the event counters; {@code webhook} may be null when none is configured. */
    public void bindEvents(EventFanout fanout, WebhookSink webhook) {
        FunctionCounter.builder("tidemark.events.emitted", fanout, EventFanout::emitted)
                .description("threshold events emitted").register(registry);
        if (webhook != null) {
            FunctionCounter.builder("tidemark.events.delivered", webhook, WebhookSink::delivered)
                    .description("events the webhook receiver acknowledged").register(registry);
            FunctionCounter.builder("tidemark.events.retried", webhook, WebhookSink::retried)
                    .description("failed webhook attempts that were retried").register(registry);
            FunctionCounter.builder("tidemark.events.coalesced", webhook, WebhookSink::coalesced)
                    .description("events a full outbox folded into a later event of their export").register(registry);
            Gauge.builder("tidemark.events.pending", webhook, WebhookSink::pending)
                    .description("events in the outbox awaiting delivery").strongReference(true).register(registry);
            Gauge.builder("tidemark.webhook.disabled", webhook, w -> w.disabled() ? 1 : 0)
                    .description("1 after the receiver answered 410 Gone").strongReference(true).register(registry);
        }
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    private void gauge(String name, String description, String export, ControlledExport e,
            ToLongFunction<ControlledExport> value) {
        Gauge.builder(name, e, x -> value.applyAsLong(x)).description(description).baseUnit("bytes")
                .tag("export", export).strongReference(true).register(registry);
    }
}
