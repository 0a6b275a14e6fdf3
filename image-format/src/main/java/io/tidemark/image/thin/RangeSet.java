package io.tidemark.image.thin;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of byte ranges {@code [start, stop)} of the file, kept coalesced: no two stored ranges
 * overlap or touch. Not thread-safe; {@link SpaceAllocator} guards it.
 */
final class RangeSet {

    /** start to stop. */
    private final TreeMap<Long, Long> ranges = new TreeMap<>();
    private long bytes;

    /** Adds {@code [start, stop)}, merging with neighbours; tolerates overlap with what is there. */
    void add(long start, long stop) {
        if (stop <= start) {
            return;
        }
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            stop = Math.max(stop, before.getValue());
            ranges.remove(before.getKey());
            bytes -= before.getValue() - before.getKey();
        }
        Iterator<Map.Entry<Long, Long>> after = ranges.tailMap(start, true).entrySet().iterator();
        while (after.hasNext()) {
            Map.Entry<Long, Long> next = after.next();
            if (next.getKey() > stop) {
                break;
            }
            stop = Math.max(stop, next.getValue());
            bytes -= next.getValue() - next.getKey();
            after.remove();
        }
        ranges.put(start, stop);
        bytes += stop - start;
    }

    /** Removes {@code [start, stop)}, splitting ranges it cuts; parts not in the set are ignored. */
    void remove(long start, long stop) {
        if (stop <= start) {
            return;
        }
        Map.Entry<Long, Long> before = ranges.lowerEntry(start);
        if (before != null && before.getValue() > start) {
            ranges.put(before.getKey(), start);
            bytes -= before.getValue() - start;
            if (before.getValue() > stop) {
                ranges.put(stop, before.getValue());
                bytes += before.getValue() - stop;
                return;
            }
        }
        Iterator<Map.Entry<Long, Long>> inside = ranges.tailMap(start, true).entrySet().iterator();
        while (inside.hasNext()) {
            Map.Entry<Long, Long> next = inside.next();
            if (next.getKey() >= stop) {
                break;
            }
            long nextStop = next.getValue();
            bytes -= nextStop - next.getKey();
            inside.remove();
            if (nextStop > stop) {
                ranges.put(stop, nextStop);
                bytes += nextStop - stop;
                break;
            }
        }
    }

    /** Whether every byte of {@code [start, stop)} is in the set. */
    boolean covers(long start, long stop) {
        Map.Entry<Long, Long> range = ranges.floorEntry(start);
        return range != null && range.getValue() >= stop;
    }

    /** Bytes in the set. */
    long bytes() {
        return bytes;
    }

    /** The highest range, or null when empty. */
    Map.Entry<Long, Long> last() {
        return ranges.lastEntry();
    }

    /** The ranges in ascending order, as start to stop; read-only use. */
    Iterable<Map.Entry<Long, Long>> ascending() {
        return ranges.entrySet();
    }
}
