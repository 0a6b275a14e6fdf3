package io.tidemark.server.cli;

import io.tidemark.image.BlockDevice;
import io.tidemark.server.control.ControlledExport;
import io.tidemark.server.control.MeteredBlockDevice;
import io.tidemark.server.control.ThresholdServices;
import io.tidemark.server.nbd.Export;
import io.tidemark.server.nbd.ExportRegistry;
import io.tidemark.server.nbd.NbdErrors;
import io.tidemark.server.nbd.NbdServer;
import io.tidemark.server.protocol.NbdProtocol;
import io.tidemark.threshold.DeferredAllocationListener;
import io.tidemark.threshold.Quota;
import io.tidemark.threshold.QuotaPolicy;
import io.tidemark.threshold.ThresholdMonitor;
import io.tidemark.threshold.ThresholdSetting;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The exports of {@code serve} with their thresholds attached: each image is opened with a
 * {@link DeferredAllocationListener}, then its {@link ThresholdMonitor} is started from the opened
 * device's size and usage and attached, and the device is wrapped in a {@link MeteredBlockDevice}.
 */
final class MonitoredExports {

    /** One export as the control API sees it. */
    private final class Monitored implements ControlledExport {
        private final String name;
        private final BlockDevice device;
        private final ThresholdMonitor monitor;

        Monitored(String name, BlockDevice device, ThresholdMonitor monitor) {
            this.name = name;
            this.device = device;
            this.monitor = monitor;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public BlockDevice device() {
            return device;
        }

        @Override
        public ThresholdMonitor monitor() {
            return monitor;
        }

        @Override
        public int connections() {
            NbdServer s = server;
            return s == null ? 0 : s.connections(name);
        }
    }

    private final List<Monitored> exports = new ArrayList<>();
    private ExportRegistry registry;
    private volatile NbdServer server;

    private MonitoredExports() {
    }

    static MonitoredExports open(List<ExportSpec> specs, ThresholdServices services) throws IOException {
        Map<String, DeferredAllocationListener> relays = new LinkedHashMap<>();
        ExportRegistry opened = ExportOpener.open(specs,
                spec -> relays.computeIfAbsent(spec.name(), name -> new DeferredAllocationListener()));
        MonitoredExports result = new MonitoredExports();
        try {
            List<Export> metered = new ArrayList<>();
            for (ExportSpec spec : specs) {
                Export export = opened.find(spec.name()).orElseThrow();
                ThresholdMonitor monitor = services.watch(spec.name(), export.device(),
                        spec.threshold().map(v -> new ThresholdSetting(ThresholdSetting.DEFAULT_NAME, v, 0)).orElse(null),
                        spec.quota().isPresent() ? new Quota(spec.quota().getAsLong(), QuotaPolicy.ENOSPC) : null);
                relays.get(spec.name()).attach(monitor);
                BlockDevice device = new MeteredBlockDevice(export.device(), spec.name(), services.metrics(),
                        cause -> NbdProtocol.Error.name(NbdErrors.toNbdError(cause)));
                metered.add(new Export(export.name(), export.description(), device));
                Monitored m = result.new Monitored(spec.name(), device, monitor);
                result.exports.add(m);
                services.bindMetrics(m);
            }
            result.registry = new ExportRegistry(metered);
            return result;
        } catch (IOException | RuntimeException e) {
            try {
                opened.flushAndClose();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    ExportRegistry registry() {
        return registry;
    }

    List<? extends ControlledExport> exports() {
        return exports;
    }

    /** Connection counts come from the server once it runs. */
    void servedBy(NbdServer server) {
        this.server = server;
    }
}
