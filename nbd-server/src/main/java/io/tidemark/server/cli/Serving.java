package io.tidemark.server.cli;

import io.tidemark.server.control.ControlServer;
import io.tidemark.server.control.ThresholdServices;
import io.tidemark.server.nbd.NbdServer;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running {@code serve}: the NBD server, and the threshold services and control API around its
 * exports, stopped together — the server first (draining requests, closing devices), then the
 * services (so the last events reach their sinks).
 *
 * @param control null when the control API is off
 */
record Serving(NbdServer server, ThresholdServices services, ControlServer control) implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Serving.class);

    /** Stops everything on SIGTERM or Ctrl-C. */
    Serving stopOnSignal() {
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "tidemark-shutdown"));
        return this;
    }

    @Override
    public void close() {
        server.close();
        try {
            services.close();
        } catch (IOException e) {
            log.warn("closing threshold services: {}", e.getMessage());
        }
    }
}
