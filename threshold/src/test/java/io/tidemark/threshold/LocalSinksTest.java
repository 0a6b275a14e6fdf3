package io.tidemark.threshold;

import static io.tidemark.threshold.EventOutboxTest.event;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalSinksTest {

    @TempDir
    Path dir;

    @Test
    void logSinkAppendsOneJsonLinePerEventWithQemuFieldNames() throws Exception {
        Path file = dir.resolve("logs/events.jsonl");
        try (LogSink sink = LogSink.toFile(file)) {
            sink.accept(event("disk", 1));
        }
        try (LogSink sink = LogSink.toFile(file)) {
            sink.accept(event("disk", 2));
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        JsonNode first = new ObjectMapper().readTree(lines.getFirst());
        assertThat(first.path("export").asText()).isEqualTo("disk");
        assertThat(first.path("amount-exceeded").asLong()).isEqualTo(10);
        assertThat(first.path("write-threshold").asLong()).isEqualTo(100);
        assertThat(first.path("quota").isNull()).isTrue();
        assertThat(EventCodec.fromJson(lines.get(1))).isEqualTo(event("disk", 2));
    }

    @Test
    void streamHubFiltersByExportAndStopsAfterUnsubscribe() {
        EventStreamHub hub = new EventStreamHub();
        List<ThresholdEvent> all = new ArrayList<>();
        List<ThresholdEvent> onlyB = new ArrayList<>();
        EventStreamHub.Subscription s1 = hub.subscribe(null, all::add);
        hub.subscribe("b", onlyB::add);
        hub.accept(event("a", 1));
        hub.accept(event("b", 1));
        s1.close();
        hub.accept(event("b", 2));
        assertThat(all).containsExactly(event("a", 1), event("b", 1));
        assertThat(onlyB).containsExactly(event("b", 1), event("b", 2));
        assertThat(hub.subscribers()).isEqualTo(1);
    }

    @Test
    void streamHubReplaysWhatAReconnectingSubscriberMissed() {
        EventStreamHub hub = new EventStreamHub();
        for (int i = 1; i <= 5; i++) {
            hub.accept(event(i % 2 == 0 ? "b" : "a", i));
        }
        List<ThresholdEvent> got = new ArrayList<>();
        hub.subscribe("a", "id-b-2", got::add);
        hub.accept(event("a", 6));
        assertThat(got).extracting(ThresholdEvent::sequence).containsExactly(3L, 5L, 6L);
        List<ThresholdEvent> unknown = new ArrayList<>();
        hub.subscribe(null, "id-gone", unknown::add);
        assertThat(unknown).isEmpty();
    }

    @Test
    void fanoutReachesEverySinkEvenWhenOneFails() {
        List<ThresholdEvent> got = new ArrayList<>();
        EventFanout fanout = new EventFanout(List.of(e -> {
            throw new IllegalStateException("broken sink");
        }, got::add));
        fanout.accept(event("a", 1));
        assertThat(got).hasSize(1);
        assertThat(fanout.emitted()).isEqualTo(1);
    }

    @Test
    void backoffGrowsExponentiallyWithJitterUpToTheCap() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(3));
        for (int attempt = 0; attempt < 40; attempt++) {
            long full = Math.min(3000, 100L << Math.min(attempt, 20));
            Duration d = backoff.delay(attempt, random);
            assertThat(d.toMillis()).as("seed %d attempt %d", seed, attempt).isBetween(full / 2, full);
        }
    }
}
