package io.tidemark.threshold;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live subscribers to the event stream (the control API's Server-Sent Events). Subscribers get
 * events from the moment they subscribe; their callbacks must not block (they queue a write).
 */
public final class EventStreamHub implements EventSink {

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

    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();

    /**
     * @param export only events of this export, or null for all
     */
    public Subscription subscribe(String export, Consumer<ThresholdEvent> consumer) {
        Subscriber s = new Subscriber(export, consumer);
        subscribers.add(s);
        return () -> subscribers.remove(s);
    }

    public int subscribers() {
        return subscribers.size();
    }

    @Override
    public void accept(ThresholdEvent event) {
        for (Subscriber s : subscribers) {
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
}
