package io.tidemark.threshold;

/**
 * Receives threshold events. Called on a monitor's event thread, never on a write path; events of
 * one export arrive in sequence order. An implementation that needs to do slow work (network)
 * records the event durably and returns.
 */
@FunctionalInterface
public interface EventSink {

    void accept(ThresholdEvent event);

    EventSink NONE = event -> { };
}
