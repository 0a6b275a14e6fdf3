package io.tidemark.server.nbd;

import java.util.concurrent.Executor;

/**
 * What every connection of one server shares: the exports, the executor that runs disk I/O
 * off the event loop, the shutdown signal and the per-connection limits.
 */
record ServerContext(ExportRegistry exports, Executor ioExecutor, ShutdownSignal shutdown, ConnectionLimits limits) {
}
