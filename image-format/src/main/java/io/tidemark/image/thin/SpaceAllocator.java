package io.tidemark.image.thin;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.NoSpaceException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Physical space of the image file: free ranges (first fit), the append point, and ranges freed
 * in memory that must not be reused until the commit that freed them is durable.
 *
 * <p>All methods are synchronized; they are short and never do I/O. {@link AllocationListener#reserve}
 * runs under this lock so that reported usages are monotonic.
 */
final class SpaceAllocator {

    /** Free ranges, start to end, coalesced. */
    private final TreeMap<Long, Long> free = new TreeMap<>();
    private long freeBytes;
    /** First byte after every range ever handed out this session: appends start here. */
    private long end;
    /** The physical high-water mark reported as usage; never decreases within a session. */
    private long highWater;
    /** Ranges released in memory; reusable only once a commit that no longer references them is durable. */
    private List<long[]> pending = new ArrayList<>();

    SpaceAllocator(long end) {
        this.end = end;
        this.highWater = end;
    }

    /** Adds space known to be unreferenced by the durable header (found by the scan on open). */
    synchronized void addFree(long offset, long length) {
        insertFree(offset, offset + length);
    }

    /**
     * Hands out {@code length} bytes aligned to {@code alignment}: the lowest free range that fits,
     * else at the end of the file, after the listener agreed to the new usage.
     */
    synchronized long allocate(long length, long alignment, AllocationListener listener) throws IOException {
        for (Map.Entry<Long, Long> range : free.entrySet()) {
            long start = ImageFormat.alignUp(range.getKey(), alignment);
            if (start + length <= range.getValue()) {
                take(range.getKey(), range.getValue(), start, length);
                return start;
            }
        }
        long start = ImageFormat.alignUp(end, alignment);
        long newEnd = start + length;
        if (newEnd > ImageFormat.MAX_PHYSICAL) {
            throw new NoSpaceException("image file would exceed the format's limit of " + ImageFormat.MAX_PHYSICAL + " bytes");
        }
        if (newEnd > highWater) {
            listener.reserve(newEnd);
            highWater = newEnd;
        }
        if (start > end) {
            insertFree(end, start);
        }
        end = newEnd;
        return start;
    }

    /**
     * The lowest free range of {@code length} bytes, aligned, that starts below {@code limit}; -1
     * when there is none. Used by compaction, which never grows the file.
     */
    synchronized long allocateBelow(long length, long alignment, long limit) {
        for (Map.Entry<Long, Long> range : free.entrySet()) {
            long start = ImageFormat.alignUp(range.getKey(), alignment);
            if (start >= limit) {
                return -1;
            }
            if (start + length <= range.getValue()) {
                take(range.getKey(), range.getValue(), start, length);
                return start;
            }
        }
        return -1;
    }

    /** Tells the listener beforehand about growth that {@code bytes} of new allocations may cause. */
    synchronized void reserveAhead(long bytes, AllocationListener listener) throws IOException {
        long growth = bytes - freeBytes;
        if (growth > 0 && end + growth > highWater) {
            listener.reserve(end + growth);
        }
    }

    /** Space the map stopped referencing; it becomes reusable after the next durable commit. */
    synchronized void release(long offset, long length) {
        if (length > 0) {
            pending.add(new long[] {offset, length});
        }
    }

    /** Space allocated but never referenced by any map (a failed write): reusable at once. */
    synchronized void releaseUnused(long offset, long length) {
        insertFree(offset, offset + length);
    }

    /** Takes the ranges released so far; the caller frees them once its commit is durable. */
    synchronized List<long[]> takePending() {
        List<long[]> taken = pending;
        pending = new ArrayList<>();
        return taken;
    }

    synchronized void makeFree(List<long[]> ranges) {
        for (long[] r : ranges) {
            insertFree(r[0], r[0] + r[1]);
        }
    }

    synchronized long usage() {
        return highWater;
    }

    /** End of the last byte in use: the append point minus free space touching it. */
    synchronized long lastUsedEnd() {
        Map.Entry<Long, Long> last = free.lastEntry();
        if (last != null && last.getValue() >= end) {
            return last.getKey();
        }
        return end;
    }

    synchronized List<long[]> freeRanges() {
        List<long[]> ranges = new ArrayList<>();
        free.forEach((s, e) -> ranges.add(new long[] {s, e - s}));
        return ranges;
    }

    private void take(long rangeStart, long rangeEnd, long start, long length) {
        free.remove(rangeStart);
        if (start > rangeStart) {
            free.put(rangeStart, start);
        }
        if (start + length < rangeEnd) {
            free.put(start + length, rangeEnd);
        }
        freeBytes -= length;
    }

    /** Adds {@code [start, stop)} to the free set, merging with neighbours; tolerates overlap. */
    private void insertFree(long start, long stop) {
        if (stop <= start) {
            return;
        }
        Map.Entry<Long, Long> before = free.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            stop = Math.max(stop, before.getValue());
            free.remove(before.getKey());
            freeBytes -= before.getValue() - before.getKey();
        }
        Iterator<Map.Entry<Long, Long>> after = free.tailMap(start, true).entrySet().iterator();
        while (after.hasNext()) {
            Map.Entry<Long, Long> next = after.next();
            if (next.getKey() > stop) {
                break;
            }
            stop = Math.max(stop, next.getValue());
            freeBytes -= next.getValue() - next.getKey();
            after.remove();
        }
        free.put(start, stop);
        freeBytes += stop - start;
        if (stop > end) {
            end = stop;
        }
    }
}
