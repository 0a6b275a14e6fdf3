package io.tidemark.image.thin;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.NoSpaceException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Physical space of the image file: free ranges (first fit), the append point, ranges freed in
 * memory that must not be reused until the commit that freed them is durable, and which free
 * space is known to read as zeroes on the host.
 *
 * <p>Space reads as zeroes when it lies beyond the end the file had when it was opened (never
 * written, a sparse hole once the file grows over it) or when it was punched out after its
 * free became durable. A new cluster in such space needs only its client's bytes written; any
 * other space gets zero-filled by its user.
 *
 * <p>All methods are synchronized; they are short and never do I/O. {@link AllocationListener#reserve}
 * runs under this lock so that reported usages are monotonic.
 */
final class SpaceAllocator {

    /** Space handed out: its offset, and whether all of it reads as zeroes on the host. */
    record Allocation(long offset, boolean readsZero) {
    }

    private final RangeSet free = new RangeSet();
    /** The part of {@link #free} known to read as zeroes. */
    private final RangeSet zeroed = new RangeSet();
    /** First byte after every range ever handed out this session: appends start here. */
    private long end;
    /** The file's length at open: space from here on was never written. */
    private final long untouchedFrom;
    /** The physical high-water mark reported as usage; never decreases within a session. Written under the lock. */
    private volatile long highWater;
    /** Ranges released in memory; reusable only once a commit that no longer references them is durable. */
    private List<long[]> pending = new ArrayList<>();

    /**
     * @param end      first byte after the last referenced range
     * @param fileSize the file's length now; bytes at or after {@code max(end, fileSize)} read as zeroes
     */
    SpaceAllocator(long end, long fileSize) {
        this.end = end;
        this.highWater = end;
        this.untouchedFrom = Math.max(end, fileSize);
    }

    /** Adds space known to be unreferenced by the durable header (found by the scan on open). */
    synchronized void addFree(long offset, long length) {
        insertFree(offset, offset + length);
    }

    /**
     * Hands out {@code length} bytes aligned to {@code alignment}: the lowest free range that fits,
     * else at the end of the file, after the listener agreed to the new usage.
     */
    synchronized Allocation allocate(long length, long alignment, AllocationListener listener) throws IOException {
        for (Map.Entry<Long, Long> range : free.ascending()) {
            long start = ImageFormat.alignUp(range.getKey(), alignment);
            if (start + length <= range.getValue()) {
                return take(start, length);
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
            long gap = end;
            insertFree(gap, start);
            if (gap >= untouchedFrom) {
                zeroed.add(gap, start);
            }
        }
        end = newEnd;
        return new Allocation(start, start >= untouchedFrom);
    }

    /** Consecutive clusters handed out: the first one's offset and how many. */
    record Run(long offset, int clusters) {
    }

    /**
     * Hands out up to {@code most} consecutive clusters: as many as the lowest free range that
     * holds a whole cluster has (free space is reused before the file grows), else {@code most}
     * at the end of the file, after the listener agreed to the new usage.
     */
    synchronized Run allocateClusters(int clusterSize, int most, AllocationListener listener) throws IOException {
        for (Map.Entry<Long, Long> range : free.ascending()) {
            long start = ImageFormat.alignUp(range.getKey(), clusterSize);
            long fit = (range.getValue() - start) / clusterSize;
            if (fit > 0) {
                int clusters = (int) Math.min(fit, most);
                take(start, (long) clusters * clusterSize);
                return new Run(start, clusters);
            }
        }
        return new Run(allocate((long) most * clusterSize, clusterSize, listener).offset(), most);
    }

    /**
     * The lowest free range of {@code length} bytes, aligned, that starts below {@code limit}; -1
     * when there is none. Used by compaction, which never grows the file.
     */
    synchronized long allocateBelow(long length, long alignment, long limit) {
        for (Map.Entry<Long, Long> range : free.ascending()) {
            long start = ImageFormat.alignUp(range.getKey(), alignment);
            if (start >= limit) {
                return -1;
            }
            if (start + length <= range.getValue()) {
                return take(start, length).offset();
            }
        }
        return -1;
    }

    /** Tells the listener beforehand about growth that {@code bytes} of new allocations may cause. */
    synchronized void reserveAhead(long bytes, AllocationListener listener) throws IOException {
        long growth = bytes - free.bytes();
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

    /**
     * Makes a range that no durable header references reusable.
     *
     * @param readsZero the range was punched out of the host file, so it reads as zeroes
     */
    synchronized void makeFree(long offset, long length, boolean readsZero) {
        insertFree(offset, offset + length);
        if (readsZero) {
            zeroed.add(offset, offset + length);
        }
    }

    /** The high-water mark; lock-free, as the write path reports it with every allocation. */
    long usage() {
        return highWater;
    }

    /** End of the last byte in use: the append point minus free space touching it. */
    synchronized long lastUsedEnd() {
        Map.Entry<Long, Long> last = free.last();
        if (last != null && last.getValue() >= end) {
            return last.getKey();
        }
        return end;
    }

    synchronized List<long[]> freeRanges() {
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<Long, Long> range : free.ascending()) {
            ranges.add(new long[] {range.getKey(), range.getValue() - range.getKey()});
        }
        return ranges;
    }

    private Allocation take(long start, long length) {
        long stop = start + length;
        free.remove(start, stop);
        boolean readsZero = zeroed.covers(start, stop);
        zeroed.remove(start, stop);
        return new Allocation(start, readsZero);
    }

    /** Adds {@code [start, stop)} to the free set (not as known zeroes); tolerates overlap. */
    private void insertFree(long start, long stop) {
        free.add(start, stop);
        zeroed.remove(start, stop);
        if (stop > end) {
            end = stop;
        }
    }
}
