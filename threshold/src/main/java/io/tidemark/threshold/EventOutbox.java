package io.tidemark.threshold;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * <p>Each line is {@code <crc32> <kind> <payload>}: kind {@code E} carries an event's JSON, kind
 * {@code D} the id of an event that was delivered. An event is fsync'd before {@link #append}
 * returns, so an event the monitor emitted survives a crash. Delivered marks are not fsync'd: a
 * lost mark only means a redelivery, which at-least-once allows. On open the log is replayed; a
 * torn last line (a crash mid-append) fails its checksum and is cut off. When the file is mostly
 * delivered events it is compacted: the pending events are written to a new file that atomically
 * replaces the old one, so the log stays bounded by the pending events.
 */
public final class EventOutbox implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(EventOutbox.class);
    private static final String FILE_NAME = "outbox.log";
    /** Compact once the file exceeds this and is more than half delivered events. */
    public static final long DEFAULT_COMPACT_BYTES = 1 << 20;

    private record Pending(ThresholdEvent event, int lineBytes) {
    }

    private final Path dir;
    private final Path file;
    private final long compactBytes;
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private FileChannel channel;
    private long size;
    private long pendingBytes;

    private EventOutbox(Path dir, long compactBytes) {
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
        this.compactBytes = compactBytes;
    }

    public static EventOutbox open(Path dir) throws IOException {
        return open(dir, DEFAULT_COMPACT_BYTES);
    }

    public static EventOutbox open(Path dir, long compactBytes) throws IOException {
        Files.createDirectories(dir);
        EventOutbox outbox = new EventOutbox(dir, compactBytes);
        outbox.recover();
        return outbox;
    }

    /** Records an event durably (fsync'd) before returning. */
    public synchronized void append(ThresholdEvent event) throws IOException {
        int bytes = write('E', EventCodec.toJson(event));
        channel.force(false);
        pending.put(event.id(), new Pending(event, bytes));
        pendingBytes += bytes;
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
        write('D', id);
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
        while (buf.hasRemaining()) {
            channel.write(buf);
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
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        channel.truncate(pos);
        channel.position(pos);
        channel.force(true);
        size = pos;
        if (!pending.isEmpty()) {
            log.info("outbox {}: {} events pending delivery", file, pending.size());
        }
        if (size > compactBytes && size > 2 * pendingBytes) {
            compact();
        }
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
                pending.put(event.id(), new Pending(event, lineBytes));
                pendingBytes += lineBytes;
            }
            case 'D' -> {
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
                ByteBuffer buf = ByteBuffer.wrap(line('E', EventCodec.toJson(p.event())));
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
        channel = FileChannel.open(file, StandardOpenOption.WRITE);
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
