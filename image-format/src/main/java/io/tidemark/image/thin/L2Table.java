package io.tidemark.image.thin;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One L2 table in memory. Entries are read without locks (atomic longs); they change only under
 * the image's map lock, which also guards the on-disk location.
 */
final class L2Table {

    private final AtomicLongArray entries;
    /** Where the last commit put this table (0 when it is not on disk yet). */
    long diskOffset;
    int diskChecksum;

    L2Table(int entryCount) {
        this.entries = new AtomicLongArray(entryCount);
    }

    long get(int index) {
        return entries.get(index);
    }

    void set(int index, long entry) {
        entries.set(index, entry);
    }

    int size() {
        return entries.length();
    }

    boolean isEmpty() {
        for (int i = 0; i < entries.length(); i++) {
            if (entries.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(entries.length() * ImageFormat.L2_ENTRY_SIZE);
        for (int i = 0; i < entries.length(); i++) {
            b.putLong(entries.get(i));
        }
        return b.flip();
    }
}
