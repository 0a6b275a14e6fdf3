package io.tidemark.it.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tidemark demo} driven as a user drives it: start it in a directory, read what it prints,
 * run every command it suggests in a shell (the event follower first, as in a second terminal),
 * watch the threshold event appear in the demo's own output and in the follower, then Ctrl-C.
 *
 * <p>Two deviations from a user at a terminal, both for running next to other tests: the demo gets
 * {@code --listen} and {@code --control} on free ports (the commands it prints then carry the
 * control address), and the fixed FUSE directory /tmp/tidemark-demo of the printed nbdfuse line
 * becomes a directory of this test. {@code tidemark} on the PATH is a two-line script
 * that runs the built jar exactly as the repository's launcher does.
 *
 */
class TidemarkDemoIT {

    private static final Duration STARTUP = Duration.ofSeconds(90);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    /** More than the demo threshold (10% of its 1 GiB disk), so copying it in crosses the mark. */
    private static final int USER_DISK_MIB = 160;
    private static final String USER_DISK_PLACEHOLDER = "YOUR-DISK.raw";
    private static final String DEMO_FUSE_DIR = "/tmp/tidemark-demo";
    private static final Pattern CONTROL_LINE = Pattern.compile("control API on http://(127\\.0\\.0\\.1:(\\d+))");
    private static final Pattern THEN = Pattern.compile("#\\s*then:\\s*(.+)$");

    @TempDir
    Path work;

    @Test
    void printedCommandsWorkAndTheEventShowsUpInTheDemoLog() throws Exception {
        Path bin = tidemarkOnPath();
        Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        Path userDisk = randomDisk(work.resolve("my-disk.raw"));
        Path fuseDir = work.resolve("fuse");
        int port = TidemarkServer.freePort();
        String controlAddress = "127.0.0.1:" + TidemarkServer.freePort();
        List<LiveProcess> followers = new ArrayList<>();

        try (LiveProcess demo = LiveProcess.start("demo",
                List.of(bin.resolve("tidemark").toString(), "demo", "--listen", "127.0.0.1:" + port,
                        "--control", controlAddress), work, env)) {
            demo.awaitLine(l -> l.startsWith("Press Ctrl-C"), "its instructions", STARTUP);
            String printed = demo.output();
            assertThat(printed).contains("created tidemark-demo/demo.img")
                    .contains("listening on nbd://127.0.0.1:" + port);
            Matcher control = CONTROL_LINE.matcher(printed);
            assertThat(control.find()).as("the demo runs its control API; it printed:\n%s", printed).isTrue();
            assertThat(control.group(1)).isEqualTo(controlAddress);
            int controlPort = Integer.parseInt(control.group(2));

            List<String> commands = suggestedCommands(printed);
            assertThat(commands).as("suggested commands")
                    .anyMatch(c -> c.startsWith("nbdinfo "))
                    .anyMatch(c -> c.startsWith("qemu-img convert ") && c.contains(USER_DISK_PLACEHOLDER))
                    .anyMatch(c -> c.startsWith("tidemark events ") && c.contains("--control " + controlAddress));

            // A second terminal following events, started (and connected) before anything is written.
            for (String command : commands.stream().filter(c -> c.startsWith("tidemark events ")).toList()) {
                LiveProcess follower = LiveProcess.start("demo-events", List.of("/bin/sh", "-c", command), work, env);
                followers.add(follower);
                awaitConnected(follower, controlPort);
            }
            List<String> transcript = new ArrayList<>();
            for (String command : commands.stream().filter(c -> !c.startsWith("tidemark events ")).toList()) {
                String line = command.replace(USER_DISK_PLACEHOLDER, userDisk.toString())
                        .replace(DEMO_FUSE_DIR, fuseDir.toString());
                transcript.add(runToCompletion(line, env));
                Matcher then = THEN.matcher(line);
                if (line.contains(" & ") && then.find()) {
                    String follow = then.group(1).strip();
                    awaitFile(Path.of(follow.substring(follow.lastIndexOf(' ') + 1)));
                    transcript.add(runToCompletion(follow, env));
                }
            }
            String all = String.join("\n", transcript);
            assertThat(all).as("nbdinfo and qemu-img see the 1 GiB demo disk").contains("1073741824")
                    .contains("virtual size: 1 GiB");

            String event = demo.awaitLine(l -> l.startsWith("{") && l.contains("\"export\":\"demo\"")
                    && l.contains("\"threshold\":\"default\""), "the threshold event", Duration.ofSeconds(30));
            String id = event.replaceFirst("^\\{\"id\":\"([^\"]+)\".*$", "$1");
            for (LiveProcess follower : followers) {
                follower.awaitLine(l -> l.contains("\"id\":\"" + id + "\""), "the event " + id, Duration.ofSeconds(30));
            }

            unmount(fuseDir);
            int status = demo.interrupt(Duration.ofSeconds(30));
            assertThat(demo.isAlive()).isFalse();
            System.out.println("demo exited with status " + status + " after Ctrl-C");
        } finally {
            for (LiveProcess follower : followers) {
                follower.close();
            }
            unmount(fuseDir);
        }
        HostImage image = new HostImage(work.resolve("tidemark-demo/demo.img"));
        image.assertClean();
        assertThat(image.mappedDataBytes()).isGreaterThanOrEqualTo((long) USER_DISK_MIB << 20);
    }

    /** The indented lines between "Try it from another terminal:" and the next blank line. */
    private static List<String> suggestedCommands(String printed) {
        List<String> commands = new ArrayList<>();
        boolean inList = false;
        for (String line : printed.split("\n")) {
            if (line.startsWith("Try it from another terminal")) {
                inList = true;
            } else if (inList && line.isBlank()) {
                break;
            } else if (inList) {
                commands.add(line.strip());
            }
        }
        return commands;
    }

    /** {@code sh -c LINE}, as typed at a prompt; must exit 0. Returns the command and what it printed. */
    private String runToCompletion(String line, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", line).directory(work.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true);
        builder.environment().putAll(env);
        Path out = Files.createTempFile(work, "command", ".out");
        Process shell = builder.redirectOutput(out.toFile()).start();
        if (!shell.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            shell.destroyForcibly();
            throw new AssertionError("`" + line + "` did not finish in " + COMMAND_TIMEOUT.toSeconds() + " s");
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(shell.exitValue()).as("`%s` printed:%n%s", line, output).isZero();
        return "$ " + line + "\n" + output;
    }

    private static void awaitConnected(LiveProcess follower, int controlPort) throws Exception {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (!follower.connectedTo(controlPort)) {
            if (!follower.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the event follower did not connect to the control API; it printed:\n"
                        + follower.output());
            }
            Thread.sleep(100);
        }
    }

    private static void awaitFile(Path file) throws InterruptedException {
        for (int i = 0; i < 300 && !Files.exists(file); i++) {
            Thread.sleep(100);
        }
        assertThat(file).as("the file nbdfuse serves").exists();
    }

    private static void unmount(Path fuseDir) throws IOException, InterruptedException {
        boolean mounted;
        try (Stream<String> mounts = Files.lines(Path.of("/proc/self/mounts"))) {
            mounted = mounts.anyMatch(l -> l.contains(" " + fuseDir + " "));
        }
        if (mounted) {
            new ProcessBuilder("fusermount3", "-u", fuseDir.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The user's raw disk: incompressible bytes, so every cluster of it takes space in the thin image. */
    private static Path randomDisk(Path file) throws IOException {
        SplittableRandom random = new SplittableRandom(file.toString().hashCode());
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int i = 0; i < USER_DISK_MIB; i++) {
                random.nextBytes(block);
                out.write(block);
            }
        }
        return file;
    }

    /** bin/tidemark: the launcher's exec line without its build step (the jar is built by this reactor). */
    private Path tidemarkOnPath() throws IOException {
        Path bin = Files.createDirectories(work.resolve("bin"));
        String exec = TidemarkCli.command(List.of()).stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
        Path script = bin.resolve("tidemark");
        Files.writeString(script, "#!/bin/sh\nexec " + exec + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }
}
