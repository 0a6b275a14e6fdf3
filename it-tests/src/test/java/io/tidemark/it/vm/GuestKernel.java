package io.tidemark.it.vm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The guest kernel: Debian's linux-image-cloud-amd64 as installed on the host, with its module tree.
 * Modules are resolved through modules.dep so that the initramfs loads each one after its dependencies;
 * modules compiled into this kernel (modules.builtin) need no file and are skipped.
 */
record GuestKernel(String release, Path image, Path moduleRoot) {

    private static final Path BOOT = Path.of("/boot");
    private static final Path MODULES = Path.of("/lib/modules");
    private static final String FLAVOUR = "-cloud-amd64";

    /** The newest installed cloud kernel; fails naming the package when there is none. */
    static GuestKernel installed() {
        try (Stream<Path> boot = Files.list(BOOT)) {
            Path image = boot
                    .filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
                    .filter(p -> p.getFileName().toString().endsWith(FLAVOUR))
                    .max(Comparator.comparing(p -> p.getFileName().toString()))
                    .orElseThrow(() -> new IllegalStateException(
                            "no /boot/vmlinuz-*" + FLAVOUR + "; install linux-image-cloud-amd64 (scripts/install-test-deps)"));
            String release = image.getFileName().toString().substring("vmlinuz-".length());
            Path moduleRoot = MODULES.resolve(release);
            if (!Files.isRegularFile(moduleRoot.resolve("modules.dep"))) {
                throw new IllegalStateException("kernel " + release + " has no " + moduleRoot.resolve("modules.dep"));
            }
            if (!Files.isReadable(image)) {
                throw new IllegalStateException("kernel image " + image + " is not readable");
            }
            return new GuestKernel(release, image, moduleRoot);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The module files to insert, in an order where every module follows its dependencies.
     *
     * @param names module names as modprobe knows them ({@code virtio_blk}, {@code nbd})
     */
    List<Path> moduleLoadOrder(List<String> names) {
        Map<String, List<String>> dependencies = readModulesDep();
        Set<String> builtin = readBuiltinNames();
        Map<String, String> pathByName = new HashMap<>();
        dependencies.keySet().forEach(path -> pathByName.put(moduleName(path), path));

        Set<String> ordered = new LinkedHashSet<>();
        for (String name : names) {
            if (builtin.contains(name)) {
                continue;
            }
            String path = pathByName.get(name);
            if (path == null) {
                throw new IllegalStateException("kernel " + release + " has no module " + name
                        + " (neither in modules.dep nor built in)");
            }
            addWithDependencies(path, dependencies, ordered, new HashSet<>());
        }
        return ordered.stream().map(moduleRoot::resolve).toList();
    }

    private static void addWithDependencies(String path, Map<String, List<String>> dependencies,
            Set<String> ordered, Set<String> visiting) {
        if (ordered.contains(path)) {
            return;
        }
        if (!visiting.add(path)) {
            throw new IllegalStateException("dependency cycle in modules.dep at " + path);
        }
        for (String dependency : dependencies.getOrDefault(path, List.of())) {
            addWithDependencies(dependency, dependencies, ordered, visiting);
        }
        ordered.add(path);
    }

    /** modules.dep: {@code kernel/a/b.ko: kernel/c.ko kernel/d.ko} per line. */
    private Map<String, List<String>> readModulesDep() {
        Map<String, List<String>> dependencies = new HashMap<>();
        for (String line : readLines(moduleRoot.resolve("modules.dep"))) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String rest = line.substring(colon + 1).strip();
            List<String> deps = rest.isEmpty() ? List.of() : List.of(rest.split("\\s+"));
            dependencies.put(line.substring(0, colon), new ArrayList<>(deps));
        }
        return dependencies;
    }

    private Set<String> readBuiltinNames() {
        Path builtin = moduleRoot.resolve("modules.builtin");
        Set<String> names = new HashSet<>();
        if (Files.isRegularFile(builtin)) {
            readLines(builtin).forEach(line -> names.add(moduleName(line)));
        }
        return names;
    }

    /** {@code kernel/drivers/block/virtio_blk.ko[.xz]} → {@code virtio_blk}; modprobe treats - and _ alike. */
    private static String moduleName(String path) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        return file.substring(0, file.indexOf(".ko")).replace('-', '_');
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
