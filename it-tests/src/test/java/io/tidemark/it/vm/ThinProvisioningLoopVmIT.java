package io.tidemark.it.vm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 3, the mission in one test: a guest fills a thin disk far beyond its initial quota while
 * a manager, told by webhook each time usage crosses the threshold, grows the quota in time. The
 * server holds writes at the quota (policy pause) rather than failing them — the manager answers
 * its first event late on purpose, so at least one write of the guest is held — and the guest never
 * sees an error; every event corresponds to exactly one extension.
 */
class ThinProvisioningLoopVmIT {

    private static final long MIB = 1L << 20;
    private static final long INITIAL_QUOTA = 256 * MIB;
    private static final long STEP = 256 * MIB;
    private static final long HEADROOM = 64 * MIB;
    /** 32 files of 64 MiB: the 2 GiB. */
    private static final int FILES = 32;
    private static final int FILE_MIB = 64;
    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path work;

    @Test
    void managerGrowsTheQuotaBeforeTheGuestNotices() throws Exception {
        HostImage image = HostImage.createThin(work.resolve("thin.img"), "4G");
        GuestRun run;
        JsonNode finalState;
        List<QuotaManager.Extension> extensions;
        int deliveries;
        double emitted;
        try (QuotaManager manager = new QuotaManager("thin", STEP, HEADROOM);
                TidemarkServer server = TidemarkServer.named("thin-loop", work)
                        .export("thin", image.path(), "quota=" + INITIAL_QUOTA, "threshold=" + (INITIAL_QUOTA - HEADROOM))
                        .control()
                        .webhook(manager.webhookUri())
                        .start()) {
            manager.manage(server.controlAddress(), INITIAL_QUOTA);
            run = Guest.scenario("thin-loop")
                    .programs("/usr/sbin/mke2fs", "/usr/sbin/e2fsck")
                    .hostFiles("/etc/mke2fs.conf")
                    .parameter("FILES", FILES)
                    .parameter("FILE_MIB", FILE_MIB)
                    .nbdDisk(server.port(), "thin")
                    .timeout(Duration.ofMinutes(8))
                    .boot(work)
                    .assertSucceeded();
            assertThat(server.isAlive()).as("server alive after the run").isTrue();
            finalState = awaitSettled(manager);
            extensions = manager.extensions();
            deliveries = manager.deliveries();
            emitted = manager.metric("tidemark_events_emitted_total");
            assertThat(manager.problems()).as("manager problems").isEmpty();
            assertThat(manager.pausedWritersSeen()).as("writers held at the quota while the manager was late")
                    .isPositive();
        }

        assertThat(run.required("io-errors")).isEqualTo("0");
        assertThat(run.required("written")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("verified")).isEqualTo(Integer.toString(FILES));
        assertThat(run.required("fsck")).isEqualTo("clean");

        // Every event is the threshold armed one headroom below the quota of its time, and led to one step.
        for (int i = 0; i < extensions.size(); i++) {
            QuotaManager.Extension e = extensions.get(i);
            long quotaThen = INITIAL_QUOTA + i * STEP;
            assertThat(e.quotaAtEvent()).as("quota in event %d", i).isEqualTo(quotaThen);
            assertThat(e.writeThreshold()).as("threshold in event %d", i).isEqualTo(quotaThen - HEADROOM);
            assertThat(e.usage()).as("usage in event %d", i).isGreaterThan(e.writeThreshold());
            assertThat(e.newQuota()).isEqualTo(quotaThen + STEP);
        }
        assertThat((long) emitted).as("events the server emitted = extensions the manager made")
                .isEqualTo(extensions.size());
        long finalQuota = INITIAL_QUOTA + extensions.size() * STEP;
        long usage = finalState.path("usage").asLong();
        assertThat(finalState.path("quota").path("bytes").asLong()).isEqualTo(finalQuota);
        assertThat(usage).as("final usage within the last quota").isLessThanOrEqualTo(finalQuota);
        assertThat(usage).as("final usage crossed the last threshold but one: the last extension was needed")
                .isGreaterThan(finalQuota - STEP - HEADROOM);
        assertThat(usage).as("usage holds the guest's files").isGreaterThanOrEqualTo((long) FILES * FILE_MIB * MIB);
        System.out.printf("thin-loop: %d events (%d deliveries), %d extensions, final quota %d MiB, usage %d MiB%n",
                extensions.size(), deliveries, extensions.size(), finalQuota / MIB, usage / MIB);

        image.assertClean();
        assertThat(image.mappedDataBytes()).isGreaterThanOrEqualTo((long) FILES * FILE_MIB * MIB);
    }

    /**
     * Webhook delivery is asynchronous: the last crossing may still be on its way when the guest
     * powers off. Settled means the threshold is armed again one headroom below the manager's quota.
     */
    private static JsonNode awaitSettled(QuotaManager manager) throws Exception {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (true) {
            JsonNode state = manager.exportState();
            for (JsonNode threshold : state.path("thresholds")) {
                if (threshold.path("name").asText().equals("default") && threshold.path("state").asText().equals("armed")
                        && threshold.path("offset").asLong() == manager.quota() - HEADROOM) {
                    return state;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the loop did not settle within " + SETTLE_TIMEOUT.toSeconds()
                        + " s; export state: " + state + "; extensions: " + manager.extensions());
            }
            Thread.sleep(200);
        }
    }
}
