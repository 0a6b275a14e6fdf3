package io.tidemark.threshold;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.ByteSize;
import io.tidemark.image.NoSpaceException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one export's usage against its thresholds and quota.
 *
 * <p>The write path ({@link #allocated}) counts the allocated bytes (one uncontended atomic add)
 * and compares the usage it is told with the lowest armed threshold (one volatile read). The usage
 * itself is not tracked here a second time: the device keeps its high-water mark anyway, and the
 * monitor reads it when it needs it. Only a write that crosses the mark does more: it claims the
 * crossing with a compare-and-set (so concurrent writers hand over exactly one) and wakes this
 * export's event thread. That thread, under the monitor's lock, fires every armed threshold the
 * usage exceeds — disarming one-shot thresholds, stepping repeating ones — persists the state and
 * passes the events to the sink in sequence order. Firing happens only there, so each arming
 * yields exactly one event however many writers race.
 *
 * <p>{@link #reserve} enforces the quota before the device grows.
 */
public final class ThresholdMonitor implements AllocationListener, AutoCloseable {

    /** Persists an export's state; called under the monitor's lock, off the write path. */
    @FunctionalInterface
    public interface StateStore {
        void save(ExportState state);

        StateStore NONE = state -> { };
    }

    private static final Logger log = LoggerFactory.getLogger(ThresholdMonitor.class);
    private static final long NOTHING_ARMED = Long.MAX_VALUE;
    private static final long NO_CROSSING = -1;

    private final String export;
    private final long virtualSize;
    private final EventSink sink;
    private final StateStore store;
    private final Clock clock;

    /** The device's physical high-water mark; raised before the device reports an allocation. */
    private final LongSupplier usage;
    private final AtomicLong allocatedBytes;
    private final AtomicLong lowestArmed = new AtomicLong(NOTHING_ARMED);
    /** Usage of the write that claimed the latest crossing, for amount-exceeded as QEMU reports it. */
    private final AtomicLong crossingUsage = new AtomicLong(NO_CROSSING);

    private final ExecutorService eventThread;
    private final Runnable evaluation = this::evaluate;

    /** Guards thresholds and nextSequence. */
    private final Object lock = new Object();
    private final Map<String, Threshold> thresholds = new LinkedHashMap<>();
    private long nextSequence;

    private volatile Quota quota;
    private final ReentrantLock quotaLock = new ReentrantLock();
    private final Condition quotaChanged = quotaLock.newCondition();
    private final AtomicInteger pausedWriters = new AtomicInteger();

    private ThresholdMonitor(String export, long virtualSize, LongSupplier usage, long allocated, ExportState state,
            StateStore store, EventSink sink, Clock clock) {
        this.export = export;
        this.virtualSize = virtualSize;
        this.usage = usage;
        this.allocatedBytes = new AtomicLong(allocated);
        this.store = store;
        this.sink = sink;
        this.clock = clock;
        this.quota = state.quota();
        this.nextSequence = state.nextSequence();
        long base = percentBase();
        for (ThresholdStatus saved : state.thresholds()) {
            Threshold t = new Threshold(saved.setting(), saved.setting().value().resolve(base));
            if (saved.setting().repeating()) {
                t.offset = Math.max(t.offset, saved.offset());
            }
            t.armed = saved.armed();
            t.fired = saved.fired();
            t.lastFired = saved.lastFired();
            thresholds.put(t.setting.name(), t);
        }
        this.eventThread = Executors.newSingleThreadExecutor(
                Thread.ofVirtual().name("threshold-" + export).factory());
    }

    /**
     * Starts watching an export with the state it had before a restart. Armed thresholds that the
     * usage already exceeds fire at once.
     *
     * @param usage     the device's physical high-water mark ({@code BlockDevice::usage}): must
     *                  not block, and must already show an allocation when the device reports it to
     *                  {@link #allocated} (a crossing is then seen either by the writer or by the
     *                  event thread's re-check)
     * @param allocated the bytes allocated at start
     */
    public static ThresholdMonitor start(String export, long virtualSize, LongSupplier usage, long allocated,
            ExportState state, StateStore store, EventSink sink) {
        return start(export, virtualSize, usage, allocated, state, store, sink, Clock.systemUTC());
    }

    static ThresholdMonitor start(String export, long virtualSize, LongSupplier usage, long allocated,
            ExportState state, StateStore store, EventSink sink, Clock clock) {
        ThresholdMonitor monitor =
                new ThresholdMonitor(export, virtualSize, usage, allocated, state, store, sink, clock);
        monitor.eventThread.execute(monitor.evaluation);
        return monitor;
    }

    // ---- write path -------------------------------------------------------------------------

    @Override
    public void allocated(long offset, long length, long newUsage) {
        allocatedBytes.getAndAdd(length);
        long lowest = lowestArmed.get();
        if (newUsage > lowest && lowestArmed.compareAndSet(lowest, NOTHING_ARMED)) {
            crossingUsage.accumulateAndGet(newUsage, Math::max);
            scheduleEvaluation();
        }
    }

    @Override
    public void reserve(long newUsage) throws NoSpaceException, InterruptedIOException {
        if (!tryReserve(newUsage)) {
            awaitQuotaRaise(newUsage);
        }
    }

    /** False where {@link #reserve} would pause the writer at the quota. */
    @Override
    public boolean tryReserve(long newUsage) throws NoSpaceException {
        Quota q = quota;
        if (q == null || newUsage <= q.bytes()) {
            return true;
        }
        if (q.policy() == QuotaPolicy.ENOSPC) {
            throw new NoSpaceException(overQuota(newUsage, q));
        }
        return false;
    }

    private void awaitQuotaRaise(long newUsage) throws NoSpaceException, InterruptedIOException {
        quotaLock.lock();
        pausedWriters.incrementAndGet();
        try {
            Quota q = quota;
            long remaining = q == null ? 0 : q.pauseTimeout().toNanos();
            log.warn("export {}: write paused, usage would reach {} beyond quota {}", export, newUsage, q);
            while (q != null && newUsage > q.bytes()) {
                if (q.policy() == QuotaPolicy.ENOSPC || remaining <= 0) {
                    throw new NoSpaceException(overQuota(newUsage, q)
                            + (q.policy() == QuotaPolicy.PAUSE ? " after waiting " + q.pauseTimeout() : ""));
                }
                remaining = quotaChanged.awaitNanos(remaining);
                q = quota;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("export " + export + ": interrupted while paused at quota");
        } finally {
            pausedWriters.decrementAndGet();
            quotaLock.unlock();
        }
    }

    private String overQuota(long newUsage, Quota q) {
        return "export " + export + ": usage would reach " + newUsage + " bytes, beyond its quota of "
                + q.bytes() + " (" + ByteSize.format(q.bytes()) + ")";
    }

    // ---- control ----------------------------------------------------------------------------

    /**
     * Arms (or re-arms) a threshold. A value that resolves to 0 disarms it, as in QEMU. If the usage
     * already exceeds it, it fires at once.
     *
     * @return the threshold's state, or empty when the value disarmed it
     */
    public Optional<ThresholdStatus> arm(ThresholdSetting setting) {
        synchronized (lock) {
            long offset = setting.value().resolve(percentBase());
            if (offset <= 0) {
                if (thresholds.remove(setting.name()) != null) {
                    persist();
                }
                scheduleEvaluation();
                return Optional.empty();
            }
            Threshold t = new Threshold(setting, offset);
            thresholds.put(setting.name(), t);
            persist();
            scheduleEvaluation();
            return Optional.of(t.status());
        }
    }

    /** Removes one threshold; false when there was none of that name. */
    public boolean clear(String name) {
        synchronized (lock) {
            boolean removed = thresholds.remove(name) != null;
            if (removed) {
                persist();
                scheduleEvaluation();
            }
            return removed;
        }
    }

    /** Removes every threshold, returning how many there were. */
    public int clearAll() {
        synchronized (lock) {
            int count = thresholds.size();
            thresholds.clear();
            persist();
            scheduleEvaluation();
            return count;
        }
    }

    /**
     * Sets or (with null) removes the quota. Percentage thresholds are resolved against the new
     * base; paused writers that now fit resume at once.
     */
    public void setQuota(Quota newQuota) {
        synchronized (lock) {
            quotaLock.lock();
            try {
                quota = newQuota;
                quotaChanged.signalAll();
            } finally {
                quotaLock.unlock();
            }
            long base = percentBase();
            for (Threshold t : thresholds.values()) {
                if (t.setting.value() instanceof ThresholdValue.Percent && (t.armed || t.setting.repeating())) {
                    t.offset = t.setting.value().resolve(base);
                }
            }
            persist();
            scheduleEvaluation();
        }
    }

    public Optional<Quota> quota() {
        return Optional.ofNullable(quota);
    }

    public List<ThresholdStatus> thresholds() {
        synchronized (lock) {
            List<ThresholdStatus> list = new ArrayList<>(thresholds.size());
            for (Threshold t : thresholds.values()) {
                list.add(t.status());
            }
            return list;
        }
    }

    public String export() {
        return export;
    }

    public long virtualSize() {
        return virtualSize;
    }

    /** The device's physical high-water mark now. */
    public long usage() {
        return usage.getAsLong();
    }

    /** Bytes the allocation layer reported allocated (at start plus every extent since). */
    public long allocatedBytes() {
        return allocatedBytes.get();
    }

    /** Writers currently waiting for the quota to be raised. */
    public int pausedWriters() {
        return pausedWriters.get();
    }

    /** Waits until every evaluation scheduled so far has run and its events reached the sink. */
    public void awaitIdle() throws InterruptedException {
        try {
            eventThread.submit(() -> { }).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() throws InterruptedException {
        eventThread.shutdown();
        if (!eventThread.awaitTermination(10, TimeUnit.SECONDS)) {
            log.warn("export {}: threshold events still pending at close", export);
        }
    }

    // ---- event thread -----------------------------------------------------------------------

    private void scheduleEvaluation() {
        try {
            eventThread.execute(evaluation);
        } catch (RejectedExecutionException e) {
            log.debug("export {}: closed, crossing not evaluated", export);
        }
    }

    private void evaluate() {
        do {
            List<ThresholdEvent> events = new ArrayList<>();
            synchronized (lock) {
                long crossing = crossingUsage.getAndSet(NO_CROSSING);
                long current = usage.getAsLong();
                Instant now = clock.instant();
                for (Threshold t : thresholds.values()) {
                    long observed = crossing > t.offset ? crossing : current;
                    if (t.armed && t.offset > 0 && observed > t.offset) {
                        events.add(fire(t, observed, now));
                    }
                }
                if (!events.isEmpty()) {
                    persist();
                }
                lowestArmed.set(lowestArmedOffset());
            }
            for (ThresholdEvent event : events) {
                publish(event);
            }
            // A writer that read "nothing armed" while we were evaluating did not claim a crossing.
        } while (usage.getAsLong() > lowestArmed.get());
    }

    private ThresholdEvent fire(Threshold t, long observed, Instant now) {
        long mark = t.offset;
        t.fired++;
        t.lastFired = now;
        if (t.setting.repeating()) {
            long step = t.setting.repeat();
            t.offset = mark + ((observed - mark) / step + 1) * step;
        } else {
            t.armed = false;
        }
        Quota q = quota;
        return new ThresholdEvent(UUID.randomUUID().toString(), nextSequence++, export, t.setting.name(),
                observed - mark, mark, observed, allocatedBytes.get(), virtualSize, q == null ? 0 : q.bytes(), now);
    }

    private void publish(ThresholdEvent event) {
        log.info("export {}: usage {} exceeded threshold '{}' at {} by {}", export, event.usage(),
                event.threshold(), event.writeThreshold(), event.amountExceeded());
        try {
            sink.accept(event);
        } catch (RuntimeException e) {
            log.error("export {}: event {} not accepted by its sink: {}", export, event.sequence(), e.toString());
        }
    }

    private long lowestArmedOffset() {
        long lowest = NOTHING_ARMED;
        for (Threshold t : thresholds.values()) {
            if (t.armed && t.offset > 0 && t.offset < lowest) {
                lowest = t.offset;
            }
        }
        return lowest;
    }

    private long percentBase() {
        Quota q = quota;
        return q == null ? virtualSize : q.bytes();
    }

    private void persist() {
        List<ThresholdStatus> list = new ArrayList<>(thresholds.size());
        for (Threshold t : thresholds.values()) {
            list.add(t.status());
        }
        try {
            store.save(new ExportState(list, quota, nextSequence));
        } catch (RuntimeException e) {
            log.error("export {}: cannot persist threshold state: {}", export, e.getMessage());
        }
    }

    /** A threshold's mutable state, guarded by the monitor's lock. */
    private static final class Threshold {
        final ThresholdSetting setting;
        long offset;
        boolean armed = true;
        long fired;
        Instant lastFired;

        Threshold(ThresholdSetting setting, long offset) {
            this.setting = setting;
            this.offset = offset;
        }

        ThresholdStatus status() {
            return new ThresholdStatus(setting, offset, armed, fired, lastFired);
        }
    }
}
