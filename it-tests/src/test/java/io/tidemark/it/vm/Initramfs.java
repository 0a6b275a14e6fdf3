package io.tidemark.it.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Assembles a guest's initial RAM filesystem at test run time: a staging tree of busybox, kernel
 * modules, host programs with the shared libraries {@code ldd} names, and an {@code /init} script,
 * packed with {@code cpio -H newc} and {@code gzip}. Host programs keep their host paths, so a copied
 * binary finds its loader and libraries where it expects them.
 */
final class Initramfs {

    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final String MODULE_DIR = "lib/modules/guest";
    private static final long TOOL_TIMEOUT_SECONDS = 60;
    /** An ldd line: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)". */
    private static final Pattern LDD_PATH = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");

    private final Path staging;
    private final List<String> moduleFiles = new ArrayList<>();

    private Initramfs(Path staging) {
        this.staging = staging;
    }

    /** A tree in {@code workDir}/root holding busybox and the directories /init expects. */
    static Initramfs withBusybox(Path workDir) throws IOException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException(BUSYBOX + " missing; install busybox-static (scripts/install-test-deps)");
        }
        Initramfs initramfs = new Initramfs(workDir.resolve("root"));
        for (String dir : List.of("bin", "dev", "proc", "sys", "mnt", "tmp", "etc", "run", MODULE_DIR)) {
            Files.createDirectories(initramfs.staging.resolve(dir));
        }
        initramfs.copy(BUSYBOX, "bin/busybox");
        return initramfs;
    }

    /** Copies the modules in load order; {@link #moduleNames()} gives /init the same order. */
    Initramfs modules(List<Path> moduleFiles) throws IOException {
        for (Path module : moduleFiles) {
            String file = module.getFileName().toString();
            if (!file.endsWith(".ko")) {
                throw new IllegalStateException("module " + module + " is compressed; busybox insmod needs plain .ko files");
            }
            copy(module, MODULE_DIR + "/" + file);
            this.moduleFiles.add("/" + MODULE_DIR + "/" + file);
        }
        return this;
    }

    /** The module paths inside the guest, in load order. */
    List<String> moduleNames() {
        return List.copyOf(moduleFiles);
    }

    /** Copies a dynamically linked host program and every shared library it needs, at their host paths. */
    Initramfs program(Path binary) throws IOException, InterruptedException {
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing on the host (scripts/install-test-deps installs it)");
        }
        copy(binary, relative(binary));
        for (Path library : sharedLibraries(binary)) {
            copy(library, relative(library));
        }
        return this;
    }

    /** Copies a host file (configuration, data) to the same path in the guest. */
    Initramfs hostFile(Path file) throws IOException {
        copy(file, relative(file));
        return this;
    }

    /** Writes /init, executable, and packs the tree into {@code output} (gzip-compressed newc cpio). */
    Path pack(String initScript, Path output) throws IOException, InterruptedException {
        Path init = staging.resolve("init");
        Files.writeString(init, initScript, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));

        Path list = staging.resolveSibling("initramfs.list");
        try (Stream<Path> tree = Files.walk(staging)) {
            List<String> entries = tree.filter(p -> !p.equals(staging))
                    .map(p -> staging.relativize(p).toString())
                    .sorted()
                    .toList();
            Files.write(list, entries);
        }
        Path errors = staging.resolveSibling("cpio.err");
        List<Process> pipeline = ProcessBuilder.startPipeline(List.of(
                new ProcessBuilder("cpio", "-o", "-H", "newc", "--quiet")
                        .directory(staging.toFile())
                        .redirectInput(list.toFile())
                        .redirectError(errors.toFile()),
                new ProcessBuilder("gzip", "-1")
                        .redirectOutput(output.toFile())
                        .redirectError(ProcessBuilder.Redirect.appendTo(errors.toFile()))));
        for (Process step : pipeline) {
            if (!step.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                pipeline.forEach(Process::destroyForcibly);
                throw new IllegalStateException("cpio | gzip did not finish in " + TOOL_TIMEOUT_SECONDS + " s");
            }
            if (step.exitValue() != 0) {
                throw new IllegalStateException("packing the initramfs failed (" + step.info().command().orElse("?")
                        + " exit " + step.exitValue() + "): " + Files.readString(errors));
            }
        }
        return output;
    }

    private static List<Path> sharedLibraries(Path binary) throws IOException, InterruptedException {
        Process ldd = new ProcessBuilder("ldd", binary.toString()).redirectErrorStream(true).start();
        String output = new String(ldd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ldd.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS) || ldd.exitValue() != 0) {
            throw new IllegalStateException("ldd " + binary + " failed: " + output);
        }
        List<Path> libraries = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.contains("not found")) {
                throw new IllegalStateException(binary + " needs a library the host lacks: " + line.strip());
            }
            Matcher m = LDD_PATH.matcher(line);
            if (m.find()) {
                libraries.add(Path.of(m.group(1)));
            }
        }
        return libraries;
    }

    /** Copies file contents (following symlinks) so the guest gets real files at the host's paths. */
    private void copy(Path source, String guestPath) throws IOException {
        Path target = staging.resolve(guestPath);
        Files.createDirectories(target.getParent());
        Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    }

    /** The host path without its leading slash: where the file goes in the staging tree. */
    private static String relative(Path hostPath) {
        return hostPath.toAbsolutePath().toString().substring(1);
    }
}
