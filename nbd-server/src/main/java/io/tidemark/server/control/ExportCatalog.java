package io.tidemark.server.control;

import java.util.List;
import java.util.Optional;

/** The exports a server offers, as the control API and metrics see them. */
@FunctionalInterface
public interface ExportCatalog {

    List<? extends ControlledExport> exports();

    default Optional<ControlledExport> find(String name) {
        for (ControlledExport e : exports()) {
            if (e.name().equals(name)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }
}
