package io.tidemark.it.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.it.hardening.FaultyWebhookReceiver.Mode;
import io.tidemark.it.hardening.FaultyWebhookReceiver.Received;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A webhook receiver that is slow, fails with 500, refuses connections, resets mid-response or
 * answers garbage must not touch the NBD I/O path, must not grow the on-disk outbox without
 * bound, and must lose nothing: once it recovers, every event arrives, in order.
 *
 * <p>The issue speaks of a receiver broken "for minutes". Time is compressed instead: the server
 * runs with {@code --webhook-retry-ms 20,200} and {@code --webhook-timeout-ms 300} (defaults
 * 500 ms doubling to 60 s, and 10 s), so each broken phase of about 3 s goes through many retry
 * cycles (dozens of attempts), the whole test in well under 60 s. The outbox limit is small
 * ({@code --outbox-limit 8}) and a repeating threshold (every 64 KiB) fires again and again while
 * writes, 20 ms apart, each allocate a new cluster (one event per evaluation of the export's event
 * thread, which batches the crossings that come faster than it persists them), so the broken
 * phases emit several times more events than the limit and
 * the coalescing policy runs: the receiver must then see every sequence number either itself or
 * counted in the {@code coalesced} attribute of the next event it gets.
 */
class WebhookFaultIT {

    private static final String PYTHON = "/usr/bin/python3";
    private static final int CLUSTER = 64 << 10;
    private static final int WRITES_PER_PHASE = 100;
    /**
     * Between writes: lets the export's event thread, which persists state and outbox with fsyncs,
     * evaluate most writes on their own, so that a loaded disk still yields many events.
     */
    private static final int PAUSE_MILLIS = 20;
    private static final long PHASE_MILLIS = 3_000;
    private static final int OUTBOX_LIMIT = 8;
    /** The outbox compacts above 1 MiB (EventOutbox.DEFAULT_COMPACT_BYTES); a line or two of slack. */
    private static final long OUTBOX_BOUND = (1 << 20) + (64 << 10);
    private static final Pattern NEXT_SEQUENCE = Pattern.compile("\"next-sequence\"\\s*:\\s*(\\d+)");

    @TempDir
    Path dir;

    private Path script;

    @Test
    void aBrokenReceiverLeavesWritesAloneKeepsTheOutboxBoundedAndGetsEveryEventOnceItRecovers() throws Exception {
        script = dir.resolve("first_writes.py");
        try (InputStream in = WebhookFaultIT.class.getResourceAsStream("first_writes.py")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Path image = dir.resolve("disk.tmk");
        ImageCheck.createThin(image, "1G");
        Path state = dir.resolve("state");
        Files.createDirectories(state.resolve("exports"));
        // A threshold from 1 MiB repeating every cluster: one event per allocating write, or close to it.
        Files.writeString(state.resolve("exports/disk.json"), """
                {"export":"disk","next-sequence":1,"quota":null,"thresholds":[{"name":"step","value":"1048576",
                 "repeat":65536,"offset":0,"armed":true,"fired":0,"last-fired":null}]}""");
        Path outbox = state.resolve("outbox/outbox.log");

        try (FaultyWebhookReceiver receiver = FaultyWebhookReceiver.start(1_000);
                ServerProcess server = ServerProcess.serve(dir.resolve("server.log"),
                        "--export", "disk=" + image, "--state-dir", state.toString(),
                        "--webhook", receiver.url(), "--webhook-retry-ms", "20,200",
                        "--webhook-timeout-ms", "300", "--outbox-limit", Integer.toString(OUTBOX_LIMIT))) {
            OutboxWatch watch = new OutboxWatch(outbox);
            Thread watcher = Thread.ofPlatform().daemon().start(watch);
            int first = 32; // past the 1 MiB mark
            long[] healthy = writes(server.uri("disk"), first, WRITES_PER_PHASE);
            first += WRITES_PER_PHASE;
            Map<Mode, long[]> broken = new HashMap<>();
            int requestsBefore = receiver.requests();
            for (Mode mode : List.of(Mode.SLOW, Mode.FAILING, Mode.REFUSING, Mode.RESETTING, Mode.GARBAGE)) {
                receiver.mode(mode);
                long phaseEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PHASE_MILLIS);
                broken.put(mode, writes(server.uri("disk"), first, WRITES_PER_PHASE));
                first += WRITES_PER_PHASE;
                Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(phaseEnd - System.nanoTime())));
            }
            int brokenAttempts = receiver.requests() - requestsBefore;
            long pendingWhileBroken = pendingIn(outbox);
            long emitted = settledNextSequence(state.resolve("exports/disk.json")) - 1;

            receiver.mode(Mode.HEALTHY);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (lastReceived(receiver) < emitted && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            watch.stop();
            watcher.join();

            long healthyP50 = percentile(healthy, 50);
            System.out.printf("webhook faults: healthy write p50 %d µs; broken: %s; %d attempts while broken;"
                    + " %d events emitted, %d pending at most; largest outbox %d bytes%n", healthyP50,
                    broken.entrySet().stream().map(e -> e.getKey() + " p50 " + percentile(e.getValue(), 50) + " µs")
                            .toList(), brokenAttempts, emitted, pendingWhileBroken, watch.largest.get());
            // The I/O path: with the receiver broken, writes are as fast as with it healthy. The
            // bound is generous (the machine is shared); what it catches is a write waiting on the
            // webhook, which would cost the 300 ms time limit or the slow receiver's second.
            for (Map.Entry<Mode, long[]> phase : broken.entrySet()) {
                assertThat(percentile(phase.getValue(), 50))
                        .as("median write latency (µs) with the receiver %s, healthy %d µs", phase.getKey(), healthyP50)
                        .isLessThanOrEqualTo(4 * healthyP50 + 5_000);
                assertThat(Arrays.stream(phase.getValue()).sum())
                        .as("time (µs) for %d writes with the receiver %s, healthy %d µs", WRITES_PER_PHASE,
                                phase.getKey(), Arrays.stream(healthy).sum())
                        .isLessThanOrEqualTo(4 * Arrays.stream(healthy).sum() + 2_000_000);
            }
            // The receiver was tried again and again, but the outbox stayed bounded.
            assertThat(brokenAttempts).as("attempts against the broken receiver").isGreaterThan(30);
            assertThat(emitted).as("events emitted").isGreaterThan(4L * OUTBOX_LIMIT);
            assertThat(pendingWhileBroken).as("events pending in the outbox while broken")
                    .isBetween((long) OUTBOX_LIMIT, OUTBOX_LIMIT + 2L);
            assertThat(watch.largest.get()).as("largest outbox file seen (bytes)").isLessThanOrEqualTo(OUTBOX_BOUND);

            // Nothing lost, in order: every sequence arrived itself or was counted as coalesced.
            List<Received> received = receiver.received();
            assertThat(lastReceived(receiver)).as("last sequence received of %d emitted", emitted).isEqualTo(emitted);
            long previous = 0;
            long coalesced = 0;
            List<String> gaps = new ArrayList<>();
            for (Received r : received) {
                if (r.sequence() <= previous) {
                    gaps.add("sequence " + r.sequence() + " after " + previous);
                } else if (r.sequence() - previous - 1 != r.coalesced()) {
                    gaps.add("sequence " + r.sequence() + " after " + previous + " but coalesced=" + r.coalesced());
                }
                coalesced += r.coalesced();
                previous = Math.max(previous, r.sequence());
            }
            assertThat(gaps).as("sequence numbers out of order or missing").isEmpty();
            assertThat(received.size() + coalesced).isEqualTo(emitted);
            assertThat(coalesced).as("events folded by the full outbox").isPositive();
            assertThat(pendingIn(outbox)).as("events pending after recovery").isZero();
            assertThat(server.isAlive()).isTrue();
        }
    }

    /** Writes {@code count} first-allocation 4 KiB blocks one at a time; each write's latency in µs. */
    private long[] writes(String uri, int first, int count) throws IOException, InterruptedException {
        Path out = dir.resolve("writes-" + first + ".out");
        Process p = new ProcessBuilder(PYTHON, script.toString(), uri, Integer.toString(first),
                Integer.toString(count), Integer.toString(CLUSTER), Integer.toString(PAUSE_MILLIS))
                .redirectOutput(out.toFile()).redirectError(dir.resolve("writes-" + first + ".err").toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("writer finished").isTrue();
        assertThat(p.exitValue()).as("writer exit code; stderr: %s",
                Files.readString(dir.resolve("writes-" + first + ".err"))).isZero();
        long[] latencies = Files.readAllLines(out).stream().mapToLong(Long::parseLong).toArray();
        assertThat(latencies).hasSize(count);
        return latencies;
    }

    private static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
    }

    private static long lastReceived(FaultyWebhookReceiver receiver) {
        List<Received> received = receiver.received();
        return received.isEmpty() ? 0 : received.getLast().sequence();
    }

    /** The export's next sequence number once the state file stopped changing (the monitor caught up). */
    private static long settledNextSequence(Path stateFile) throws IOException, InterruptedException {
        long last = -1;
        for (int stable = 0; stable < 5; ) {
            Thread.sleep(100);
            Matcher m = NEXT_SEQUENCE.matcher(Files.readString(stateFile));
            long now = m.find() ? Long.parseLong(m.group(1)) : -1;
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    /**
     * Events pending in an outbox file, read as its format says: event lines ({@code E}, {@code F})
     * minus delivered ({@code D}) and folded ({@code C}) marks.
     */
    private static long pendingIn(Path outbox) throws IOException {
        long pending = 0;
        for (String line : Files.readAllLines(outbox, StandardCharsets.UTF_8)) {
            char kind = line.length() > 9 ? line.charAt(9) : '?';
            if (kind == 'E' || kind == 'F') {
                pending++;
            } else if (kind == 'D' || kind == 'C') {
                pending--;
            }
        }
        return pending;
    }

    /** Samples the outbox file's size every 20 ms, keeping the largest. */
    private static final class OutboxWatch implements Runnable {
        final AtomicLong largest = new AtomicLong();
        private final Path file;
        private volatile boolean running = true;

        OutboxWatch(Path file) {
            this.file = file;
        }

        void stop() {
            running = false;
        }

        @Override
        public void run() {
            while (running) {
                try {
                    if (Files.exists(file)) {
                        largest.accumulateAndGet(Files.size(file), Math::max);
                    }
                    Thread.sleep(20);
                } catch (IOException vanished) {
                    // Replaced by a compaction between exists() and size(): sample again.
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
