package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DrainingExecutorTest {

    private final ExecutorService pool = Executors.newFixedThreadPool(8);

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    @Test
    void runsEveryJobWithNoMoreThreadsAtOnceThanAllowed() throws Exception {
        DrainingExecutor executor = new DrainingExecutor(pool, 2);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        int jobs = 2000;
        CountDownLatch done = new CountDownLatch(jobs);
        for (int i = 0; i < jobs; i++) {
            executor.execute(() -> {
                mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                Thread.onSpinWait();
                running.decrementAndGet();
                done.countDown();
            });
        }
        assertThat(done.await(10, TimeUnit.SECONDS)).as("every job ran").isTrue();
        assertThat(mostAtOnce.get()).isBetween(1, 2);
    }

    @Test
    void slowJobsGetTheirParallelism() throws Exception {
        DrainingExecutor executor = new DrainingExecutor(pool, 3);
        CountDownLatch allRunning = new CountDownLatch(3);
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < 3; i++) {
            executor.execute(() -> {
                allRunning.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertThat(allRunning.await(10, TimeUnit.SECONDS)).as("three blocked jobs run side by side").isTrue();
        release.countDown();
        CountDownLatch later = new CountDownLatch(1);
        executor.execute(later::countDown);
        assertThat(later.await(10, TimeUnit.SECONDS)).as("a job after the others drained still runs").isTrue();
    }

    @Test
    void aPoolThatRefusesRejectsTheJob() {
        pool.shutdown();
        DrainingExecutor executor = new DrainingExecutor(pool, 2);
        assertThatThrownBy(() -> executor.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
    }

    /**
     * The pool refuses the second runner only after the first runner has taken and run the job:
     * the job ran, so the caller must not hear that it was dropped (it would answer the request
     * with an error and release the request's payload a second time).
     */
    @Test
    void aJobTakenByARunningRunnerIsNotReportedDroppedWhenThePoolRefusesAnother() throws Exception {
        CountDownLatch firstMayFinish = new CountDownLatch(1);
        CountDownLatch secondRan = new CountDownLatch(1);
        AtomicInteger secondRuns = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        Executor refusingTheSecond = command -> {
            if (calls.incrementAndGet() == 1) {
                pool.execute(command);
                return;
            }
            firstMayFinish.countDown();
            try {
                assertThat(secondRan.await(10, TimeUnit.SECONDS)).as("the running runner took the second job").isTrue();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            throw new RejectedExecutionException("refused after the job was taken");
        };
        DrainingExecutor executor = new DrainingExecutor(refusingTheSecond, 2);
        executor.execute(() -> {
            try {
                firstMayFinish.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        executor.execute(() -> {
            secondRuns.incrementAndGet();
            secondRan.countDown();
        });

        assertThat(secondRuns.get()).isEqualTo(1);
        assertThat(calls.get()).isEqualTo(2);
    }
}
