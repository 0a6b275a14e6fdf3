package io.tidemark.threshold;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventOutboxTest {

    @TempDir
    Path dir;

    static ThresholdEvent event(String export, long sequence) {
        return new ThresholdEvent("id-" + export + "-" + sequence, sequence, export, "default", 10, 100 * sequence,
                100 * sequence + 10, 4096, 1 << 20, 0, Instant.parse("2026-01-01T00:00:00Z").plusSeconds(sequence));
    }

    @Test
    void pendingEventsSurviveReopenInOrderAndDeliveredOnesDoNot() throws Exception {
        try (EventOutbox outbox = EventOutbox.open(dir)) {
            for (int i = 1; i <= 5; i++) {
                outbox.append(event("a", i));
            }
            outbox.markDelivered("id-a-1");
            outbox.markDelivered("id-a-3");
        }
        try (EventOutbox outbox = EventOutbox.open(dir)) {
            assertThat(outbox.pendingEvents()).extracting(ThresholdEvent::sequence).containsExactly(2L, 4L, 5L);
            assertThat(outbox.oldest()).contains(event("a", 2));
        }
    }

    @Test
    void aTornLastRecordIsCutOffAndAppendingContinues() throws Exception {
        try (EventOutbox outbox = EventOutbox.open(dir)) {
            outbox.append(event("a", 1));
            outbox.append(event("a", 2));
        }
        Path file = dir.resolve("outbox.log");
        byte[] content = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(content, content.length - 7)); // crash mid-append
        try (EventOutbox outbox = EventOutbox.open(dir)) {
            assertThat(outbox.pendingEvents()).containsExactly(event("a", 1));
            outbox.append(event("a", 3));
        }
        try (EventOutbox outbox = EventOutbox.open(dir)) {
            assertThat(outbox.pendingEvents()).containsExactly(event("a", 1), event("a", 3));
        }
    }

    @Test
    void aCorruptedRecordFailsItsChecksum() throws Exception {
        try (EventOutbox outbox = EventOutbox.open(dir)) {
            outbox.append(event("a", 1));
            outbox.append(event("a", 2));
        }
        Path file = dir.resolve("outbox.log");
        String text = Files.readString(file);
        int second = text.indexOf('\n') + 1;
        Files.writeString(file, text.substring(0, second) + text.substring(second).replace("\"a\"", "\"b\""),
                StandardOpenOption.TRUNCATE_EXISTING);
        try (EventOutbox outbox = EventOutbox.open(dir)) {
            assertThat(outbox.pendingEvents()).containsExactly(event("a", 1));
        }
    }

    @Test
    void compactionKeepsTheFileBoundedByWhatIsPending() throws Exception {
        long compactAt = 4 * 1024; // about 16 records: a few hundred appends compact many times
        try (EventOutbox outbox = EventOutbox.open(dir, compactAt)) {
            for (int i = 1; i <= 300; i++) {
                outbox.append(event("a", i));
                if (i > 3) {
                    outbox.markDelivered("id-a-" + (i - 3));
                }
                assertThat(outbox.fileSize()).isLessThanOrEqualTo(compactAt + 1024);
            }
            assertThat(outbox.pendingEvents()).extracting(ThresholdEvent::sequence)
                    .containsExactly(298L, 299L, 300L);
        }
        try (EventOutbox outbox = EventOutbox.open(dir, compactAt)) {
            assertThat(outbox.pendingEvents()).extracting(ThresholdEvent::sequence)
                    .containsExactly(298L, 299L, 300L);
        }
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()).toList()).isEqualTo(List.of("outbox.log"));
    }
}
