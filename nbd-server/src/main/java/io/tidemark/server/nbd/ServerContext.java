package io.tidemark.server.nbd;

/**
 * What every connection of one server shares: the exports, the executors that run each
 * export's disk I/O off the event loop, the shutdown signal, the per-connection limits and the
 * server-wide budget of bytes in flight.
 */
record ServerContext(ExportRegistry exports, DiskExecutors diskExecutors, ShutdownSignal shutdown,
        ConnectionLimits limits, InFlightMemory memory) {
}
