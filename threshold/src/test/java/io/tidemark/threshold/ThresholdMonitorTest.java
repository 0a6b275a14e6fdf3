package io.tidemark.threshold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.NoSpaceException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThresholdMonitorTest {

    private static final long SIZE = 1 << 20;

    private final RecordingSink sink = new RecordingSink();
    private final List<ThresholdMonitor> monitors = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void closeMonitors() throws InterruptedException {
        for (ThresholdMonitor m : monitors) {
            m.close();
        }
    }

    private ThresholdMonitor monitor(long usage) {
        return monitor(usage, ExportState.EMPTY, ThresholdMonitor.StateStore.NONE);
    }

    /** The device's high-water mark, as the monitor reads it. */
    private final AtomicLong deviceUsage = new AtomicLong();

    private ThresholdMonitor monitor(long usage, ExportState state, ThresholdMonitor.StateStore store) {
        deviceUsage.set(usage);
        ThresholdMonitor m = ThresholdMonitor.start("disk", SIZE, deviceUsage::get, usage, state, store, sink);
        monitors.add(m);
        return m;
    }

    /** What a device does: raises its mark, then reports the allocation. */
    private void allocate(ThresholdMonitor m, long offset, long length, long newUsage) {
        deviceUsage.accumulateAndGet(newUsage, Math::max);
        m.allocated(offset, length, newUsage);
    }

    private static ThresholdSetting setting(String name, String value) {
        return new ThresholdSetting(name, ThresholdValue.parse(value), 0);
    }

    private void assertNoEvent(ThresholdMonitor m) throws InterruptedException {
        m.awaitIdle();
        assertThat(sink.poll(Duration.ZERO)).isNull();
    }

    @Test
    void oneShotFiresOnceWhenUsageExceedsItThenStaysClearedUntilRearmed() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.arm(setting("default", "1000"));
        allocate(m, 0, 1000, 1000);
        assertNoEvent(m); // reaching the mark is not exceeding it (QEMU: end > threshold)

        allocate(m, 1000, 500, 1500);
        ThresholdEvent e = sink.next();
        assertThat(e.export()).isEqualTo("disk");
        assertThat(e.threshold()).isEqualTo("default");
        assertThat(e.writeThreshold()).isEqualTo(1000);
        assertThat(e.amountExceeded()).isEqualTo(500);
        assertThat(e.usage()).isEqualTo(1500);
        assertThat(e.allocated()).isEqualTo(1500);
        assertThat(e.virtualSize()).isEqualTo(SIZE);
        assertThat(e.quota()).isZero();
        assertThat(e.sequence()).isEqualTo(1);

        allocate(m, 1500, 500, 2000);
        assertNoEvent(m);
        assertThat(m.thresholds()).singleElement().satisfies(t -> {
            assertThat(t.state()).isEqualTo("cleared");
            assertThat(t.fired()).isEqualTo(1);
        });

        m.arm(setting("default", "3000"));
        allocate(m, 2000, 2000, 4000);
        ThresholdEvent again = sink.next();
        assertThat(again.writeThreshold()).isEqualTo(3000);
        assertThat(again.sequence()).isEqualTo(2);
        assertThat(again.id()).isNotEqualTo(e.id());
    }

    @Test
    void repeatModeRearmsAboveTheUsageInSteps() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.arm(new ThresholdSetting("step", ThresholdValue.parse("1000"), 500));
        allocate(m, 0, 1200, 1200);
        assertThat(sink.next().writeThreshold()).isEqualTo(1000);
        assertThat(m.thresholds().getFirst().offset()).isEqualTo(1500);
        assertThat(m.thresholds().getFirst().armed()).isTrue();

        allocate(m, 1200, 1400, 2600); // jumps over 1500, 2000 and 2500: one event, next mark 3000
        ThresholdEvent e = sink.next();
        assertThat(e.writeThreshold()).isEqualTo(1500);
        assertThat(e.amountExceeded()).isEqualTo(1100);
        assertNoEvent(m);
        assertThat(m.thresholds().getFirst().offset()).isEqualTo(3000);
    }

    @Test
    void namedThresholdsFireIndependently() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.arm(setting("warn", "50%"));
        m.arm(setting("crit", "90%"));
        allocate(m, 0, SIZE * 6 / 10, SIZE * 6 / 10);
        ThresholdEvent warn = sink.next();
        assertThat(warn.threshold()).isEqualTo("warn");
        assertThat(warn.writeThreshold()).isEqualTo(SIZE / 2);
        assertNoEvent(m);

        allocate(m, 0, SIZE, SIZE);
        ThresholdEvent crit = sink.next();
        assertThat(crit.threshold()).isEqualTo("crit");
        assertThat(crit.sequence()).isEqualTo(warn.sequence() + 1);
        assertNoEvent(m);
    }

    @Test
    void armingAThresholdAlreadyExceededFiresAtOnce() throws Exception {
        ThresholdMonitor m = monitor(5000);
        m.arm(setting("late", "1000"));
        ThresholdEvent e = sink.next();
        assertThat(e.usage()).isEqualTo(5000);
        assertThat(e.amountExceeded()).isEqualTo(4000);
        assertThat(m.thresholds().getFirst().armed()).isFalse();
    }

    @Test
    void zeroOrClearDisarms() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.arm(setting("a", "1000"));
        m.arm(setting("b", "2000"));
        assertThat(m.arm(setting("a", "0"))).isEmpty();
        assertThat(m.clear("b")).isTrue();
        assertThat(m.clear("b")).isFalse();
        allocate(m, 0, 5000, 5000);
        assertNoEvent(m);
        assertThat(m.thresholds()).isEmpty();
    }

    @Test
    void percentagesFollowTheQuotaWhenOneIsSet() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.setQuota(new Quota(2000, QuotaPolicy.ENOSPC));
        m.arm(setting("half", "50%"));
        assertThat(m.thresholds().getFirst().offset()).isEqualTo(1000);
        m.setQuota(new Quota(4000, QuotaPolicy.ENOSPC));
        assertThat(m.thresholds().getFirst().offset()).isEqualTo(2000);
        allocate(m, 0, 1500, 1500);
        assertNoEvent(m);
        allocate(m, 1500, 1000, 2500);
        ThresholdEvent e = sink.next();
        assertThat(e.writeThreshold()).isEqualTo(2000);
        assertThat(e.quota()).isEqualTo(4000);
        m.setQuota(null);
        m.arm(setting("half", "50%"));
        assertThat(m.thresholds().getFirst().offset()).isEqualTo(SIZE / 2);
    }

    @Test
    void concurrentWritersProduceExactlyOneEventPerArming() throws Exception {
        ThresholdMonitor m = monitor(0);
        int writers = 8;
        int extentsPerWriter = 2000;
        long extent = 64;
        long finalUsage = writers * extentsPerWriter * extent;
        AtomicLong highWater = deviceUsage;
        Map<String, Long> armed = new HashMap<>();
        for (int i = 1; i <= 20; i++) {
            m.arm(setting("fixed" + i, Long.toString(i * finalUsage / 21)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            done.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < extentsPerWriter; i++) {
                    long end = highWater.addAndGet(extent);
                    m.allocated(end - extent, extent, end);
                }
                return null;
            }));
        }
        start.countDown();
        // Arm more thresholds while the writers run, each at or above the current usage.
        for (int i = 1; i <= 30; i++) {
            String name = "moving" + i;
            long mark = Math.min(highWater.get() + i * 1000, finalUsage - 1);
            armed.put(name, mark);
            m.arm(setting(name, Long.toString(mark)));
            Thread.onSpinWait();
        }
        for (Future<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        m.awaitIdle();
        m.awaitIdle();

        List<ThresholdEvent> events = sink.all();
        assertThat(events).hasSize(50);
        assertThat(events.stream().map(ThresholdEvent::threshold).distinct()).hasSize(50);
        assertThat(events).allSatisfy(e -> assertThat(e.amountExceeded()).isEqualTo(e.usage() - e.writeThreshold())
                .isPositive());
        assertThat(events.stream().mapToLong(ThresholdEvent::sequence)).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList());
        for (ThresholdEvent e : events) {
            if (armed.containsKey(e.threshold())) {
                assertThat(e.writeThreshold()).isEqualTo(armed.get(e.threshold()));
            }
        }
    }

    @Test
    void stateSurvivesARestartAndIsEvaluatedAgainstTheUsageOnStart() throws Exception {
        StateDirectory state = new StateDirectory(dir);
        ThresholdMonitor first = monitor(0, ExportState.EMPTY, state.storeFor("disk"));
        first.arm(setting("low", "1000"));
        first.arm(setting("high", "8000"));
        first.arm(new ThresholdSetting("step", ThresholdValue.parse("2000"), 2000));
        first.setQuota(new Quota(100_000, QuotaPolicy.PAUSE, Duration.ofSeconds(5)));
        allocate(first, 0, 3000, 3000);
        List<String> fired = List.of(sink.next().threshold(), sink.next().threshold());
        assertThat(fired).containsExactlyInAnyOrder("low", "step");
        first.close();

        ExportState saved = state.load("disk").orElseThrow();
        assertThat(saved.quota()).isEqualTo(new Quota(100_000, QuotaPolicy.PAUSE, Duration.ofSeconds(5)));
        assertThat(saved.nextSequence()).isEqualTo(3);

        ThresholdMonitor second = monitor(9000, saved, state.storeFor("disk"));
        ThresholdEvent a = sink.next();
        ThresholdEvent b = sink.next();
        assertThat(List.of(a.threshold(), b.threshold())).containsExactly("high", "step");
        assertThat(a.sequence()).isEqualTo(3);
        assertThat(b.sequence()).isEqualTo(4);
        assertThat(b.writeThreshold()).isEqualTo(4000);
        assertNoEvent(second);
        assertThat(second.thresholds()).extracting(ThresholdStatus::state)
                .containsExactly("cleared", "cleared", "armed");
    }

    @Test
    void quotaWithEnospcRefusesAtOnce() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.reserve(Long.MAX_VALUE); // no quota, no limit
        m.setQuota(new Quota(1000, QuotaPolicy.ENOSPC));
        m.reserve(1000);
        assertThatThrownBy(() -> m.reserve(1001)).isInstanceOf(NoSpaceException.class)
                .hasMessageContaining("export disk").hasMessageContaining("1001").hasMessageContaining("1000");
    }

    @Test
    void tryReserveRefusesWhereReserveWouldPause() throws Exception {
        ThresholdMonitor m = monitor(0);
        assertThat(m.tryReserve(Long.MAX_VALUE)).isTrue(); // no quota, no limit
        m.setQuota(new Quota(1000, QuotaPolicy.PAUSE, Duration.ofSeconds(30)));
        assertThat(m.tryReserve(1000)).isTrue();
        assertThat(m.tryReserve(1001)).isFalse();
        assertThat(m.pausedWriters()).isZero();
        m.setQuota(new Quota(1000, QuotaPolicy.ENOSPC));
        assertThatThrownBy(() -> m.tryReserve(1001)).isInstanceOf(NoSpaceException.class).hasMessageContaining("1001");
    }

    @Test
    void pausedWriterResumesAtOnceWhenTheQuotaIsRaised() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.setQuota(new Quota(1000, QuotaPolicy.PAUSE, Duration.ofSeconds(30)));
        ExecutorService writer = Executors.newSingleThreadExecutor();
        Future<?> write = writer.submit(() -> {
            m.reserve(1500);
            return null;
        });
        while (m.pausedWriters() == 0) {
            Thread.sleep(1);
        }
        assertThat(write.isDone()).isFalse();
        m.setQuota(new Quota(1200, QuotaPolicy.PAUSE, Duration.ofSeconds(30))); // still too small
        Thread.sleep(20);
        assertThat(write.isDone()).isFalse();
        long raised = System.nanoTime();
        m.setQuota(new Quota(2000, QuotaPolicy.PAUSE, Duration.ofSeconds(30)));
        write.get(5, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - raised)).isLessThan(Duration.ofSeconds(1));
        assertThat(m.pausedWriters()).isZero();
        writer.shutdown();
    }

    @Test
    void pausedWriterFailsWithEnospcAfterTheTimeout() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.setQuota(new Quota(1000, QuotaPolicy.PAUSE, Duration.ofMillis(50)));
        long start = System.nanoTime();
        assertThatThrownBy(() -> m.reserve(1500)).isInstanceOf(NoSpaceException.class)
                .hasMessageContaining("after waiting");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
    }

    @Test
    void pausedWriterFailsWhenThePolicyTurnsToEnospc() throws Exception {
        ThresholdMonitor m = monitor(0);
        m.setQuota(new Quota(1000, QuotaPolicy.PAUSE, Duration.ofSeconds(30)));
        ExecutorService writer = Executors.newSingleThreadExecutor();
        Future<?> write = writer.submit(() -> {
            m.reserve(1500);
            return null;
        });
        while (m.pausedWriters() == 0) {
            Thread.sleep(1);
        }
        m.setQuota(new Quota(1000, QuotaPolicy.ENOSPC));
        assertThatThrownBy(() -> write.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(NoSpaceException.class);
        writer.shutdown();
    }
}
