package io.tidemark.server.nbd;

import io.tidemark.image.BlockDevice;
import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Makes a device durable for many waiters with as few {@code flush()} calls as it can: a FLUSH
 * (or FUA) that arrives while another connection's flush is running waits for it to end and then
 * shares the next one, instead of queueing a flush of its own behind it. One per export, shared
 * by every connection to it, which is what lets FLUSH cover every connection's writes.
 *
 * <p>Correctness rests on one rule: a caller is satisfied only by a flush that started after it
 * called. Each caller takes a ticket; a flush records the newest ticket issued before it started,
 * and when it ends every caller up to that ticket is done.
 */
final class GroupCommit {

    private final BlockDevice device;
    private final ReentrantLock flushing = new ReentrantLock();
    private final Object tickets = new Object();
    private long issued;
    /** Newest ticket covered by a finished flush; written under {@link #flushing}. */
    private volatile long covered;

    GroupCommit(BlockDevice device) {
        this.device = device;
    }

    /** Returns once everything written before this call is durable. */
    void flush() throws IOException {
        long ticket;
        synchronized (tickets) {
            ticket = ++issued;
        }
        flushing.lock();
        try {
            if (covered >= ticket) {
                return; // a flush that started after our call has finished meanwhile
            }
            long covers;
            synchronized (tickets) {
                covers = issued;
            }
            device.flush();
            covered = covers;
        } finally {
            flushing.unlock();
        }
    }
}
