package io.tidemark.it.hardening;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small ext4 filesystem in a file, loop-mounted (the tests run as root): a host filesystem
 * that a test can fill up without touching the machine's own disks.
 */
final class LoopFilesystem implements AutoCloseable {

    private final Path mountPoint;

    private LoopFilesystem(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    static LoopFilesystem create(Path directory, String size) throws IOException, InterruptedException {
        Path backing = directory.resolve("fs.img");
        Path mountPoint = Files.createDirectories(directory.resolve("mnt"));
        run("truncate", "-s", size, backing.toString());
        run("mkfs.ext4", "-q", "-F", "-m", "0", backing.toString());
        run("mount", "-o", "loop", backing.toString(), mountPoint.toString());
        return new LoopFilesystem(mountPoint);
    }

    Path root() {
        return mountPoint;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("umount", mountPoint.toString());
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
