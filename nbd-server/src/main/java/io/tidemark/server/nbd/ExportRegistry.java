package io.tidemark.server.nbd;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exports of one server, in the order they were configured. The first one is the default
 * export that the empty name selects.
 */
public final class ExportRegistry {

    private static final Logger log = LoggerFactory.getLogger(ExportRegistry.class);

    private final Map<String, Export> byName = new LinkedHashMap<>();
    private final Map<String, GroupCommit> commits = new HashMap<>();

    public ExportRegistry(List<Export> exports) {
        if (exports.isEmpty()) {
            throw new IllegalArgumentException("a server needs at least one export");
        }
        for (Export export : exports) {
            if (byName.putIfAbsent(export.name(), export) != null) {
                throw new IllegalArgumentException("export name '" + export.name() + "' is used twice");
            }
            commits.put(export.name(), new GroupCommit(export.device()));
        }
    }

    /** The export a client names; the empty name selects the default export. */
    public Optional<Export> find(String name) {
        return name.isEmpty() ? Optional.of(defaultExport()) : Optional.ofNullable(byName.get(name));
    }

    public Export defaultExport() {
        return byName.values().iterator().next();
    }

    /** The flushes of {@code export}, shared by every connection to it. */
    GroupCommit groupCommit(Export export) {
        return commits.get(export.name());
    }

    public List<Export> all() {
        return List.copyOf(byName.values());
    }

    /**
     * Flushes every writable device and closes all of them (which marks thin images clean). Every
     * device is attempted; the first failure is rethrown with the others suppressed.
     */
    public void flushAndClose() throws IOException {
        List<IOException> failures = new ArrayList<>();
        for (Export export : byName.values()) {
            try (var device = export.device()) {
                if (!export.readOnly()) {
                    device.flush();
                }
            } catch (IOException e) {
                log.warn("export '{}': flush/close failed: {}", export.name(), e.toString());
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            IOException first = failures.getFirst();
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
