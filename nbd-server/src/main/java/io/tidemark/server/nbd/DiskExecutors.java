package io.tidemark.server.nbd;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Where each export's disk I/O runs. Every export has its own {@link DrainingExecutor} over one
 * shared thread pool, so one export whose writers block — paused at their quota until a manager
 * raises it — holds at most its own runners and never stalls another export's requests (the
 * per-export executor of DESIGN.md's data flow).
 */
@FunctionalInterface
interface DiskExecutors {

    Executor forExport(String export);

    /** One executor for every export: for tests that run I/O inline or on a queue of their own. */
    static DiskExecutors shared(Executor executor) {
        return export -> executor;
    }

    /** A draining executor per export, each with at most {@code runnersPerExport} threads of {@code pool}. */
    static DiskExecutors perExport(Executor pool, int runnersPerExport) {
        Map<String, Executor> byExport = new ConcurrentHashMap<>();
        return export -> byExport.computeIfAbsent(export, name -> new DrainingExecutor(pool, runnersPerExport));
    }
}
