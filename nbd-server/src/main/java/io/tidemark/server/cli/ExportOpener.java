package io.tidemark.server.cli;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.ByteSize;
import io.tidemark.image.ImageFiles;
import io.tidemark.server.nbd.Export;
import io.tidemark.server.nbd.ExportRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Opens the images named by {@code --export} options as the server's exports. Each image is
 * opened once and shared by every connection to its export. The allocation listener of each
 * export comes from {@code listeners}: this is where thresholds and quotas attach.
 */
final class ExportOpener {

    private ExportOpener() {
    }

    static ExportRegistry open(List<ExportSpec> specs, Function<ExportSpec, AllocationListener> listeners)
            throws IOException {
        List<Export> exports = new ArrayList<>();
        try {
            for (ExportSpec spec : specs) {
                ImageFiles.Kind kind = ImageFiles.kindOf(spec.path());
                BlockDevice device = ImageFiles.open(spec.path(), spec.readOnly(), listeners.apply(spec));
                exports.add(new Export(spec.name(), describe(spec, kind, device), device));
            }
            return new ExportRegistry(exports);
        } catch (IOException | RuntimeException e) {
            for (Export export : exports) {
                try {
                    export.device().close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** What NBD_OPT_LIST shows next to the name, e.g. {@code thin image /srv/vm1.img, 20G, read-only}. */
    private static String describe(ExportSpec spec, ImageFiles.Kind kind, BlockDevice device) {
        String what = kind == ImageFiles.Kind.THIN ? "thin image " : "raw file ";
        return what + spec.path() + ", " + ByteSize.format(device.size()) + (spec.readOnly() ? ", read-only" : "");
    }
}
