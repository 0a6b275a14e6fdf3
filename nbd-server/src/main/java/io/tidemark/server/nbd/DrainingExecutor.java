package io.tidemark.server.nbd;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs disk jobs on a thread pool with at most {@code maxRunners} of its threads at once, each
 * taking jobs until none are left. A client that sends 32 requests in one go then keeps a few
 * threads busy that serve them back to back, instead of waking a pool thread per request (JFR of
 * 4 KiB reads showed the pool's park/unpark per request among the costliest frames).
 */
final class DrainingExecutor implements Executor {

    private static final Logger log = LoggerFactory.getLogger(DrainingExecutor.class);

    private final Executor executor;
    private final int maxRunners;
    private final Queue<Runnable> jobs = new ConcurrentLinkedQueue<>();
    private final AtomicInteger runners = new AtomicInteger();
    private final Runnable runner = this::runJobs;

    DrainingExecutor(Executor executor, int maxRunners) {
        if (maxRunners < 1) {
            throw new IllegalArgumentException("maxRunners must be positive: " + maxRunners);
        }
        this.executor = executor;
        this.maxRunners = maxRunners;
    }

    /**
     * Queues a job; throws RejectedExecutionException (and drops the job) if the pool refuses a
     * runner and no running runner has taken the job.
     */
    @Override
    public void execute(Runnable job) {
        jobs.add(job);
        // eager: a job never waits behind a runner stuck in a slow job (a write paused at its quota)
        // while fewer than maxRunners run
        if (runners.get() < maxRunners) {
            startRunner(job);
        }
    }

    private void startRunner(Runnable job) {
        if (!tryReserveRunner()) {
            return;
        }
        try {
            executor.execute(runner);
        } catch (RuntimeException e) {
            runners.decrementAndGet();
            // a runner already running may have taken the job meanwhile: then it runs (and cleans
            // up after itself), and the caller must not be told it was dropped
            if (jobs.remove(job)) {
                throw e;
            }
            log.debug("pool refused a runner, but a running one took the job: {}", e.toString());
        }
    }

    private boolean tryReserveRunner() {
        for (int n = runners.get(); n < maxRunners; n = runners.get()) {
            if (runners.compareAndSet(n, n + 1)) {
                return true;
            }
        }
        return false;
    }

    private void runJobs() {
        while (true) {
            Runnable job = jobs.poll();
            if (job == null) {
                runners.decrementAndGet();
                // a job queued after our poll but before the decrement saw a runner and started none
                if (jobs.isEmpty() || !tryReserveRunner()) {
                    return;
                }
                continue;
            }
            try {
                job.run();
            } catch (RuntimeException e) {
                log.warn("disk job failed: {}", e.toString()); // the runner goes on: its slot must not leak
            }
        }
    }
}
