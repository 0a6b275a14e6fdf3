package io.tidemark.server.nbd;

/**
 * What every connection of one server shares: the exports, the executors that run each
 * export's disk I/O off the event loop, the shutdown signal and the per-connection limits.
 */
record ServerContext(ExportRegistry exports, DiskExecutors diskExecutors, ShutdownSignal shutdown,
        ConnectionLimits limits) {
}
