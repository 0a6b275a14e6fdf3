package io.tidemark.server.nbd;

import io.tidemark.server.protocol.ProtocolLimits;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide budget of request payload bytes held in memory: WRITE payloads from the moment
 * a request is decoded, READ replies from the moment a READ starts, each until its reply has left.
 * Per-connection limits ({@link ConnectionLimits}) stop one client; this stops many together.
 *
 * <p>The hot path is one atomic add per request (and one per batch of replies): a WRITE is
 * {@link #charge charged}, a READ {@link #tryCharge tries}, replies are {@link #release released}.
 * When the budget is spent, connections stop reading their sockets and {@link #park} themselves;
 * released memory wakes them all, in the order they parked, so a flood cannot keep a quiet
 * client out. A connection that already holds its {@link #fairShare} gets no more: what a client
 * that never reads its replies can pin stays at its share (one request, when that is more)
 * instead of its whole per-connection allowance, so under a flood, where shares are small, the
 * others go on being served while such clients number fewer than the maximal requests the cap
 * holds (the idle timeout closes them).
 */
final class InFlightMemory {

    private final long cap;
    private final AtomicLong used = new AtomicLong();
    /** Connections in the transmission phase; the budget is shared among these. */
    private final AtomicInteger connections = new AtomicInteger();
    /** Wake-ups of parked connections, oldest first; guarded by itself (touched only under pressure). */
    private final ArrayDeque<Runnable> parked = new ArrayDeque<>();
    private volatile boolean anyParked;

    /** @param cap at least {@link ProtocolLimits#MAX_PAYLOAD}, so a lone request always fits ({@link AdmissionLimits} checks) */
    InFlightMemory(long cap) {
        this.cap = cap;
    }

    /** No server-wide cap: only the per-connection limits apply. */
    static InFlightMemory unlimited() {
        return new InFlightMemory(Long.MAX_VALUE);
    }

    long used() {
        return used.get();
    }

    void connectionOpened() {
        connections.incrementAndGet();
    }

    void connectionClosed() {
        connections.decrementAndGet();
    }

    /**
     * What one connection may hold beyond a first request: the cap shared among all connections.
     * Shared among those holding something now instead, the first few of a flood would each take
     * a large share and, never reading their replies, keep it.
     */
    long fairShare() {
        return cap / Math.max(1, connections.get());
    }

    /**
     * Whether a connection holding {@code held} bytes may take {@code bytes} more now (0: may read
     * its socket for more requests). A connection holding nothing is never held to its fair share,
     * so every connection can make progress as memory frees.
     */
    boolean fits(long bytes, long held) {
        long now = used.get();
        long wanted = Math.max(bytes, 1);
        if (now + wanted > cap) {
            return false;
        }
        return held == 0 || held + wanted <= fairShare();
    }

    /** Bytes that are already in memory (a decoded WRITE payload): counted whatever the budget says. */
    void charge(long bytes) {
        used.addAndGet(bytes);
    }

    /** Bytes about to be allocated (a READ reply): counted and true if they {@link #fits fit}. */
    boolean tryCharge(long bytes, long held) {
        if (!fits(bytes, held)) {
            return false;
        }
        if (used.addAndGet(bytes) <= cap) {
            return true;
        }
        release(bytes); // another connection got there first
        return false;
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
        if (anyParked) {
            wakeParked();
        }
    }

    /**
     * Queues {@code wakeUp} (which must hand itself to its connection's event loop) to run when
     * memory is released, if {@code bytes} more would exceed the cap now, and says whether it did.
     * A connection refused only its fair share does not park: it holds bytes, so one of its own
     * replies leaving will make it try again. A connection parks at most once at a time; the
     * caller tracks that.
     */
    boolean park(Runnable wakeUp, long bytes) {
        long wanted = Math.max(bytes, 1);
        if (used.get() + wanted <= cap) {
            return false;
        }
        synchronized (parked) {
            parked.add(wakeUp);
            anyParked = true;
        }
        if (used.get() + wanted <= cap) {
            wakeParked(); // released while we were parking: do not sleep through it
        }
        return true;
    }

    /**
     * Wakes every parked connection, oldest first, while there is room: each checks again what it
     * wanted. Waking fewer would let the woken, had they nothing to do, strand the rest with memory
     * idle; the crowd this lets in reads at most one more WRITE payload each.
     */
    private void wakeParked() {
        if (used.get() >= cap) {
            return;
        }
        Runnable[] woken;
        synchronized (parked) {
            woken = parked.toArray(Runnable[]::new);
            parked.clear();
            anyParked = false;
        }
        for (Runnable wakeUp : woken) {
            wakeUp.run();
        }
    }
}
