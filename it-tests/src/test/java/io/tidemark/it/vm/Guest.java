package io.tidemark.it.vm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A Linux guest booted under {@code qemu-system-x86_64 -accel tcg} to run one scenario script.
 * The initramfs is built for each boot from busybox, the kernel modules the scenario names, and the
 * host programs it needs; the script's result lines come back over the serial console, which is
 * also kept as a log file. Every boot has a hard timeout after which QEMU is killed.
 */
final class Guest {

    /** Where the guest reaches an NBD server that {@link #forwardNbd} forwards to the host. */
    static final String FORWARDED_NBD_ADDRESS = "10.0.2.100";
    static final int FORWARDED_NBD_PORT = 10809;

    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    /** Relays each forwarded guest connection to the host port (a tcp: chardev would carry only one). */
    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final String RESOURCES = "/io/tidemark/it/vm/";
    private static final Pattern SHELL_NAME = Pattern.compile("[A-Z][A-Z0-9_]*");
    private static final int MEMORY_MIB = 512;
    private static final Path LOG_DIR = Path.of("target", "vm-logs");

    private final String scenario;
    private final List<String> modules = new ArrayList<>();
    private final List<Path> programs = new ArrayList<>();
    private final List<Path> hostFiles = new ArrayList<>();
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private final List<String> machineArguments = new ArrayList<>();
    private Duration timeout = Duration.ofMinutes(2);

    private Guest(String scenario) {
        this.scenario = scenario;
    }

    /** A guest running {@code scenario-<name>.sh} from this package's resources. */
    static Guest scenario(String name) {
        return new Guest(name).modules("virtio_pci");
    }

    /** Kernel modules to load at boot (with their dependencies); built-in ones are skipped. */
    Guest modules(String... names) {
        modules.addAll(List.of(names));
        return this;
    }

    /** Host programs the script calls by their full host path; their shared libraries come along. */
    Guest programs(String... paths) {
        for (String path : paths) {
            programs.add(Path.of(path));
        }
        return this;
    }

    /** Host files (configuration) copied to the same path in the guest. */
    Guest hostFiles(String... paths) {
        for (String path : paths) {
            hostFiles.add(Path.of(path));
        }
        return this;
    }

    /** A shell variable the script sees. */
    Guest parameter(String name, Object value) {
        if (!SHELL_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("guest parameter name must be an upper-case shell name: " + name);
        }
        parameters.put(name, value.toString());
        return this;
    }

    /** The guest's /dev/vda: an export opened by QEMU's own NBD client, I/O errors reported to the guest. */
    Guest nbdDisk(int port, String export) {
        modules("virtio_blk");
        // werror/rerror=report: by default QEMU pauses the whole VM on ENOSPC; the scenarios must see
        // what the server does (hold the write, or fail it), not what QEMU would do in its place.
        machineArguments.addAll(List.of("-drive", "file=nbd://127.0.0.1:" + port + "/" + export
                + ",format=raw,if=virtio,werror=report,rerror=report"));
        return this;
    }

    /**
     * A user-mode network whose only way out is {@value #FORWARDED_NBD_ADDRESS}:{@value #FORWARDED_NBD_PORT},
     * forwarded to 127.0.0.1:{@code hostPort}; {@code restrict=on} keeps the guest off everything else.
     */
    Guest forwardNbd(int hostPort) {
        modules("virtio_net");
        machineArguments.addAll(List.of(
                "-netdev", "user,id=net0,restrict=on,guestfwd=tcp:" + FORWARDED_NBD_ADDRESS + ":" + FORWARDED_NBD_PORT
                        + "-cmd:" + BUSYBOX + " nc 127.0.0.1 " + hostPort,
                "-device", "virtio-net-pci,netdev=net0"));
        return this;
    }

    Guest timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }

    /** Builds the initramfs in {@code workDir}, boots, waits for power-off (or kills QEMU at the timeout). */
    GuestRun boot(Path workDir) throws IOException, InterruptedException {
        if (!Files.isExecutable(QEMU)) {
            throw new IllegalStateException(QEMU + " missing; install qemu-system-x86 (scripts/install-test-deps)");
        }
        GuestKernel kernel = GuestKernel.installed();
        Initramfs initramfs = Initramfs.withBusybox(workDir).modules(kernel.moduleLoadOrder(modules));
        for (Path program : programs) {
            initramfs.program(program);
        }
        for (Path file : hostFiles) {
            initramfs.hostFile(file);
        }
        Path initrd = initramfs.pack(initScript(initramfs.moduleNames()), workDir.resolve("initrd.gz"));

        Path console = logFile(scenario + ".console.log");
        List<String> command = new ArrayList<>(List.of(
                QEMU.toString(), "-accel", "tcg", "-m", Integer.toString(MEMORY_MIB),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", "stdio",
                "-kernel", kernel.image().toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 quiet panic=-1"));
        command.addAll(machineArguments);

        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true)
                .redirectOutput(console.toFile())
                .start();
        boolean finished = qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished) {
            qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - start);
        GuestRun run = GuestRun.parse(scenario, finished ? qemu.exitValue() : -1, wall,
                Files.readString(console, StandardCharsets.UTF_8));
        System.out.printf("vm scenario %s: %.1f s wall (console: %s)%n", scenario,
                run.wallTime().toMillis() / 1000.0, console.toAbsolutePath());
        if (!finished) {
            throw run.failure("QEMU was killed after the " + timeout.toSeconds() + " s timeout");
        }
        return run;
    }

    /** A file in target/vm-logs, where consoles and server logs stay for the failure report. */
    static Path logFile(String name) throws IOException {
        return Files.createDirectories(LOG_DIR).resolve(name);
    }

    /** Generated variables, the shared prologue, the scenario as a function, and the power-off epilogue. */
    private String initScript(List<String> moduleFiles) {
        StringBuilder script = new StringBuilder("#!/bin/busybox sh\n");
        script.append("MODULES=").append(quote(String.join(" ", moduleFiles))).append('\n');
        parameters.forEach((name, value) -> script.append(name).append('=').append(quote(value)).append('\n'));
        script.append(resource("init-common.sh"));
        script.append("scenario() {\n").append(resource("scenario-" + scenario + ".sh")).append("}\n");
        script.append("""
                ( set -e -o pipefail; scenario )
                status=$?
                if [ "$status" -ne 0 ]; then dmesg | tail -n 40; fi
                mark exit "$status"
                sync
                poweroff -f
                """);
        return script.toString();
    }

    private static String quote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    private static String resource(String name) {
        try (InputStream in = Guest.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("no guest script " + RESOURCES + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
