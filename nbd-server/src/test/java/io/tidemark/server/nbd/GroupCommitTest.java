package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

    private final ExecutorService callers = Executors.newFixedThreadPool(4);

    @AfterEach
    void stopCallers() {
        callers.shutdownNow();
    }

    /** A device whose first flush blocks until the test lets it finish. */
    private static final class SlowFirstFlush extends MemoryDevice {
        final CountDownLatch firstFlushRunning = new CountDownLatch(1);
        final CountDownLatch finishFirstFlush = new CountDownLatch(1);

        SlowFirstFlush() {
            super(4096);
        }

        @Override
        public void flush() throws IOException {
            if (flushes.get() == 0 && firstFlushRunning.getCount() > 0) {
                firstFlushRunning.countDown();
                try {
                    finishFirstFlush.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            super.flush();
        }
    }

    @Test
    void flushesThatArriveDuringAFlushShareTheNextOne() throws Exception {
        SlowFirstFlush device = new SlowFirstFlush();
        GroupCommit commit = new GroupCommit(device);
        Future<?> first = callers.submit(() -> {
            commit.flush();
            return null;
        });
        assertThat(device.firstFlushRunning.await(10, TimeUnit.SECONDS)).isTrue();
        List<Future<?>> waiting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiting.add(callers.submit(() -> {
                commit.flush();
                return null;
            }));
        }
        // the three are queued behind the running flush; none may be satisfied by it
        Thread.sleep(100);
        assertThat(waiting).noneMatch(Future::isDone);
        device.finishFirstFlush.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (Future<?> f : waiting) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(device.flushes.get()).as("one flush for the first caller, one shared by the other three")
                .isEqualTo(2);
    }

    @Test
    void aFailedFlushSatisfiesNobodyAndTheNextCallerFlushesAgain() throws Exception {
        MemoryDevice device = new MemoryDevice(4096);
        GroupCommit commit = new GroupCommit(device);
        device.nextFailure.set(new IOException("disk on fire"));
        assertThatThrownBy(commit::flush).hasMessageContaining("disk on fire");
        commit.flush();
        commit.flush();
        assertThat(device.flushes.get()).as("sequential callers each flush").isEqualTo(2);
    }
}
