package io.tidemark.threshold;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Hands every event to each configured sink; one failing sink does not starve the others. */
public final class EventFanout implements EventSink {

    private static final Logger log = LoggerFactory.getLogger(EventFanout.class);

    private final List<EventSink> sinks;
    private final AtomicLong emitted = new AtomicLong();

    public EventFanout(List<? extends EventSink> sinks) {
        this.sinks = List.copyOf(sinks);
    }

    @Override
    public void accept(ThresholdEvent event) {
        emitted.incrementAndGet();
        for (EventSink sink : sinks) {
            try {
                sink.accept(event);
            } catch (RuntimeException e) {
                log.error("event {} of export {} lost by {}: {}", event.sequence(), event.export(),
                        sink.getClass().getSimpleName(), e.toString());
            }
        }
    }

    /** Events emitted since start. */
    public long emitted() {
        return emitted.get();
    }
}
