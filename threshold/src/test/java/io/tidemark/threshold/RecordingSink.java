package io.tidemark.threshold;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A sink that keeps every event for assertions. */
final class RecordingSink implements EventSink {

    private final LinkedBlockingQueue<ThresholdEvent> events = new LinkedBlockingQueue<>();
    private final List<ThresholdEvent> all = new ArrayList<>();

    @Override
    public synchronized void accept(ThresholdEvent event) {
        all.add(event);
        events.add(event);
    }

    /** The next event not yet taken, waiting up to five seconds. */
    ThresholdEvent next() throws InterruptedException {
        ThresholdEvent event = events.poll(5, TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no event within 5 s");
        }
        return event;
    }

    ThresholdEvent poll(Duration wait) throws InterruptedException {
        return events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    synchronized List<ThresholdEvent> all() {
        return List.copyOf(all);
    }
}
