package io.tidemark.threshold;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live subscribers to the event stream (the control API's Server-Sent Events). The hub keeps the
 * last {@link #REPLAY_EVENTS} events so a subscriber that reconnects with the id of the last event
 * it saw (SSE's {@code Last-Event-ID}) gets the ones it missed before the live ones. Callbacks run
 * under the hub's lock, in event order, and must not block (they queue a socket write).
 */
public final class EventStreamHub implements EventSink {

    public static final int REPLAY_EVENTS = 1024;
    private static final Logger log = LoggerFactory.getLogger(EventStreamHub.class);

    /** An open subscription; closing it stops delivery. */
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private record Subscriber(String export, Consumer<ThresholdEvent> consumer) {
        boolean wants(ThresholdEvent event) {
            return export == null || export.equals(event.export());
        }
    }

    private final List<Subscriber> subscribers = new ArrayList<>();
    private final ArrayDeque<ThresholdEvent> recent = new ArrayDeque<>();

    /**
     * @param export only events of this export, or null for all
     */
    public Subscription subscribe(String export, Consumer<ThresholdEvent> consumer) {
        return subscribe(export, null, consumer);
    }

    /**
     * Subscribes, first replaying the retained events after {@code lastEventId} (none when it is
     * null or no longer retained).
     */
    public synchronized Subscription subscribe(String export, String lastEventId, Consumer<ThresholdEvent> consumer) {
        Subscriber s = new Subscriber(export, consumer);
        if (lastEventId != null) {
            boolean after = false;
            for (ThresholdEvent e : recent) {
                if (after && s.wants(e)) {
                    consumer.accept(e);
                }
                after |= e.id().equals(lastEventId);
            }
        }
        subscribers.add(s);
        return () -> unsubscribe(s);
    }

    public synchronized int subscribers() {
        return subscribers.size();
    }

    @Override
    public synchronized void accept(ThresholdEvent event) {
        recent.addLast(event);
        if (recent.size() > REPLAY_EVENTS) {
            recent.removeFirst();
        }
        for (Subscriber s : List.copyOf(subscribers)) {
            if (s.wants(event)) {
                try {
                    s.consumer().accept(event);
                } catch (RuntimeException e) {
                    log.warn("stream subscriber dropped: {}", e.toString());
                    subscribers.remove(s);
                }
            }
        }
    }

    private synchronized void unsubscribe(Subscriber s) {
        subscribers.remove(s);
    }
}
