package io.tidemark.threshold;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable queue of events a webhook has not yet acknowledged: an append-only log file.
 *
 * <p>Each line is {@code <crc32> <kind> <payload>}: kind {@code E} carries an event's JSON,
 * {@code F} {@code <n> <json>} an event that stands for {@code n} earlier events of its export
 * (see below), {@code D} the id of an event that was delivered, {@code C} the id of an event
 * folded into a later one. An event is fsync'd before {@link #append} returns, so an event the
 * monitor emitted survives a crash. Delivered marks are not fsync'd: a lost mark only means a
 * redelivery, which at-least-once allows. On open the log is replayed; a torn last line (a crash
 * mid-append) fails its checksum and is cut off. When the file is mostly delivered events it is
 * compacted: the pending events are written to a new file that atomically replaces the old one,
 * so the log stays bounded by the pending events.
 *
 * <p>The pending events are bounded too ({@code limit}): a receiver that stays away while a
 * repeating threshold keeps firing must not fill the host's disk. When {@code limit} events are
 * pending, a new event of an export that already has a pending event other than the oldest
 * (which may be on its way to the receiver) replaces the newest such event and counts it, with
 * the events that one stood for, in its {@link #coalesced} number: a manager learns the latest
 * usage, and from the count and the gap in {@code sequence} exactly how many crossings were folded
 * — nothing disappears silently. An export with no such pending event still gets its event
 * queued, so at most {@code limit} plus one event per export are pending.
 */
public final class EventOutbox implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(EventOutbox.class);
    private static final String FILE_NAME = "outbox.log";
    /** Compact once the file exceeds this and is more than half delivered events. */
    public static final long DEFAULT_COMPACT_BYTES = 1 << 20;
    /** Pending events beyond which new events are coalesced per export: about 5 MB of JSON. */
    public static final int DEFAULT_LIMIT = 10_000;

    /** Opens the log file; tests substitute one whose writes fail. */
    @FunctionalInterface
    interface LogOpener {
        FileChannel open(Path file, OpenOption... options) throws IOException;
    }

    /** An undelivered event, the number of earlier events of its export it stands for, its line's size. */
    private record Pending(ThresholdEvent event, long coalesced, int lineBytes) {
    }

    private final Path dir;
    private final Path file;
    private final long compactBytes;
    private final int limit;
    private final LogOpener opener;
    private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    private FileChannel channel;
    private long size;
    private long pendingBytes;
    private long coalescedTotal;
    /** Whether appends are folding events now; the warning is logged once per such episode. */
    private boolean coalescing;

    private EventOutbox(Path dir, long compactBytes, int limit, LogOpener opener) {
        if (limit < 1) {
            throw new IllegalArgumentException("outbox limit must be at least 1 event, got " + limit);
        }
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
        this.compactBytes = compactBytes;
        this.limit = limit;
        this.opener = opener;
    }

    public static EventOutbox open(Path dir) throws IOException {
        return open(dir, DEFAULT_COMPACT_BYTES, DEFAULT_LIMIT);
    }

    public static EventOutbox open(Path dir, long compactBytes) throws IOException {
        return open(dir, compactBytes, DEFAULT_LIMIT);
    }

    /**
     * @param compactBytes compact once the file is larger than this and more than half delivered
     * @param limit        pending events beyond which new events are coalesced per export
     */
    public static EventOutbox open(Path dir, long compactBytes, int limit) throws IOException {
        return open(dir, compactBytes, limit, FileChannel::open);
    }

    static EventOutbox open(Path dir, long compactBytes, int limit, LogOpener opener) throws IOException {
        Files.createDirectories(dir);
        EventOutbox outbox = new EventOutbox(dir, compactBytes, limit, opener);
        outbox.recover();
        return outbox;
    }

    /**
     * Records an event durably (fsync'd) before returning. When the outbox is full, the event
     * replaces its export's newest pending event but the oldest (see the class comment).
     */
    public synchronized void append(ThresholdEvent event) throws IOException {
        Pending folded = pending.size() >= limit ? newestFoldable(event.export()) : null;
        long coalesced = folded == null ? 0 : folded.coalesced() + 1;
        String json = EventCodec.toJson(event);
        // The folding event before the mark that drops the folded one: a crash or a failed write
        // between the two lines then leaves an event counted twice, never one lost.
        int bytes = coalesced == 0 ? write('E', json) : write('F', coalesced + " " + json);
        if (folded != null) {
            write('C', folded.event().id());
        }
        channel.force(false);
        if (folded != null) {
            pending.remove(folded.event().id());
            pendingBytes -= folded.lineBytes();
            coalescedTotal++;
            if (!coalescing) {
                coalescing = true;
                log.warn("outbox {}: {} events pending (the limit): new events replace their export's newest "
                        + "pending one, counted in its 'coalesced' attribute", file, pending.size());
            }
        }
        pending.put(event.id(), new Pending(event, coalesced, bytes));
        pendingBytes += bytes;
        if (folded != null) {
            compactIfMostlyDone();
        }
    }

    /** The newest pending event of {@code export} that is not the oldest of all; null if none. */
    private Pending newestFoldable(String export) {
        String head = pending.firstEntry().getKey();
        for (Pending p : pending.sequencedValues().reversed()) {
            if (p.event().export().equals(export)) {
                return p.event().id().equals(head) ? null : p;
            }
        }
        return null;
    }

    /**
     * How many earlier events of its export the pending event {@code id} stands for: 0 unless the
     * outbox was full when it was appended; 0 too when it is no longer pending.
     */
    public synchronized long coalesced(String id) {
        Pending p = pending.get(id);
        return p == null ? 0 : p.coalesced();
    }

    /** Events folded into later ones since this outbox was opened. */
    public synchronized long coalescedTotal() {
        return coalescedTotal;
    }

    /** The oldest event not yet delivered. */
    public synchronized Optional<ThresholdEvent> oldest() {
        var it = pending.values().iterator();
        return it.hasNext() ? Optional.of(it.next().event()) : Optional.empty();
    }

    public synchronized List<ThresholdEvent> pendingEvents() {
        List<ThresholdEvent> list = new ArrayList<>(pending.size());
        for (Pending p : pending.values()) {
            list.add(p.event());
        }
        return list;
    }

    public synchronized int pending() {
        return pending.size();
    }

    /** Bytes the log file takes now. */
    public synchronized long fileSize() {
        return size;
    }

    public synchronized void markDelivered(String id) throws IOException {
        Pending p = pending.remove(id);
        if (p == null) {
            return;
        }
        pendingBytes -= p.lineBytes();
        if (pending.size() < limit) {
            coalescing = false; // folding again after this gets its warning again
        }
        write('D', id);
        compactIfMostlyDone();
    }

    /** Compacts once the file is over its threshold and more than half of it is no longer pending. */
    private void compactIfMostlyDone() throws IOException {
        if (size > compactBytes && size > 2 * pendingBytes) {
            compact();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (channel != null) {
            channel.force(false);
            channel.close();
            channel = null;
        }
    }

    private int write(char kind, String payload) throws IOException {
        byte[] line = line(kind, payload);
        ByteBuffer buf = ByteBuffer.wrap(line);
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            cutBackTo(size, e);
            throw e;
        }
        size += line.length;
        return line.length;
    }

    private static byte[] line(char kind, String payload) {
        byte[] body = (kind + " " + payload).getBytes(StandardCharsets.UTF_8);
        CRC32 crc = new CRC32();
        crc.update(body);
        String prefix = String.format("%08x ", crc.getValue());
        byte[] line = new byte[prefix.length() + body.length + 1];
        System.arraycopy(prefix.getBytes(StandardCharsets.US_ASCII), 0, line, 0, prefix.length());
        System.arraycopy(body, 0, line, prefix.length(), body.length);
        line[line.length - 1] = '\n';
        return line;
    }

    /**
     * Removes what a failed append wrote (a full disk writes part of a line): the next record would
     * otherwise continue that torn line, and recovery, which stops at the first damaged record,
     * would drop every event after it.
     */
    private void cutBackTo(long end, IOException cause) {
        try {
            channel.truncate(end);
            channel.position(end);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    private void recover() throws IOException {
        byte[] content = Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
        int pos = 0;
        while (pos < content.length) {
            int end = indexOf(content, (byte) '\n', pos);
            if (end < 0 || !replay(content, pos, end)) {
                log.warn("outbox {}: damaged record at byte {} of {} (torn write?), cut off", file, pos, content.length);
                break;
            }
            pos = end + 1;
        }
        channel = opener.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        channel.truncate(pos);
        channel.position(pos);
        channel.force(true);
        size = pos;
        if (!pending.isEmpty()) {
            log.info("outbox {}: {} events pending delivery", file, pending.size());
        }
        compactIfMostlyDone();
    }

    private boolean replay(byte[] content, int start, int end) {
        int lineBytes = end - start + 1;
        if (end - start < 11 || content[start + 8] != ' ' || content[start + 10] != ' ') {
            return false;
        }
        CRC32 crc = new CRC32();
        crc.update(content, start + 9, end - start - 9);
        String stored = new String(content, start, 8, StandardCharsets.US_ASCII);
        if (!stored.equals(String.format("%08x", crc.getValue()))) {
            return false;
        }
        String payload = new String(content, start + 11, end - start - 11, StandardCharsets.UTF_8);
        switch (content[start + 9]) {
            case 'E' -> {
                ThresholdEvent event = EventCodec.fromJson(payload);
                pending.put(event.id(), new Pending(event, 0, lineBytes));
                pendingBytes += lineBytes;
            }
            case 'F' -> {
                int space = payload.indexOf(' ');
                long coalesced;
                try {
                    coalesced = space < 1 ? -1 : Long.parseLong(payload.substring(0, space));
                } catch (NumberFormatException e) {
                    return false;
                }
                if (coalesced < 1) {
                    return false;
                }
                ThresholdEvent event = EventCodec.fromJson(payload.substring(space + 1));
                pending.put(event.id(), new Pending(event, coalesced, lineBytes));
                pendingBytes += lineBytes;
            }
            case 'D', 'C' -> {
                Pending p = pending.remove(payload);
                if (p != null) {
                    pendingBytes -= p.lineBytes();
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private void compact() throws IOException {
        Path temp = dir.resolve(FILE_NAME + ".compact");
        long newSize = 0;
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (Pending p : pending.values()) {
                String json = EventCodec.toJson(p.event());
                ByteBuffer buf = ByteBuffer.wrap(p.coalesced() == 0 ? line('E', json) : line('F', p.coalesced() + " " + json));
                newSize += buf.remaining();
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
            }
            out.force(true);
        }
        channel.close();
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        StateDirectory.forceDirectory(dir);
        channel = opener.open(file, StandardOpenOption.WRITE);
        channel.position(newSize);
        log.debug("outbox {}: compacted {} bytes to {}", file, size, newSize);
        size = newSize;
    }

    private static int indexOf(byte[] content, byte b, int from) {
        for (int i = from; i < content.length; i++) {
            if (content[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
