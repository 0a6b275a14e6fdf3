package io.tidemark.server.nbd;

import io.netty.util.concurrent.AbstractEventExecutor;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * An embedded channel's event loop as a handler added under it sees it, except that once
 * {@link #stop}ped it refuses tasks, as a Netty event loop does after it has shut down (an
 * {@code EmbeddedEventLoop} itself never refuses one).
 */
final class StoppableEventLoop extends AbstractEventExecutor {

    private final EventExecutor loop;
    private volatile boolean stopped;

    StoppableEventLoop(EventExecutor loop) {
        this.loop = loop;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void execute(Runnable task) {
        if (stopped) {
            throw new RejectedExecutionException("event executor terminated");
        }
        loop.execute(task);
    }

    @Override
    public boolean inEventLoop(Thread thread) {
        return loop.inEventLoop(thread);
    }

    @Override
    public boolean isShuttingDown() {
        return stopped;
    }

    @Override
    public boolean isShutdown() {
        return stopped;
    }

    @Override
    public boolean isTerminated() {
        return stopped;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return stopped;
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        throw new UnsupportedOperationException("stop() it");
    }

    @Override
    public Future<?> terminationFuture() {
        throw new UnsupportedOperationException("stop() it");
    }

    @Override
    @Deprecated
    public void shutdown() {
        throw new UnsupportedOperationException("stop() it");
    }
}
