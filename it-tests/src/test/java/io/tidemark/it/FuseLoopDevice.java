package io.tidemark.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An NBD export as a Linux block device without the nbd kernel module: nbdfuse exposes the
 * export as a file in a FUSE mount, and losetup attaches a loop device to that file. Closing
 * detaches the loop device and unmounts FUSE, which flushes everything to the server.
 */
final class FuseLoopDevice implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);

    private final Path mountPoint;
    private final Client.Running nbdfuse;
    private String loopDevice;

    private FuseLoopDevice(Path mountPoint, Client.Running nbdfuse) {
        this.mountPoint = mountPoint;
        this.nbdfuse = nbdfuse;
    }

    /** Fails the test, naming what is missing, when this machine cannot do FUSE or loop devices. */
    static void assertMachineCanDoIt() throws IOException {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            fail("/dev/fuse does not exist: this machine (container?) cannot run nbdfuse; "
                    + "the filesystem test needs FUSE (run privileged or with --device /dev/fuse)");
        }
        Client.Result free = Client.run("losetup", "-f");
        if (free.exitCode() != 0 || !free.stdout().trim().startsWith("/dev/loop")) {
            fail(free.describe("found no free loop device: the filesystem test needs loop devices "
                    + "(root and /dev/loop-control)"));
        }
    }

    static FuseLoopDevice attach(String uri, Path workDir) throws IOException {
        Path mountPoint = Files.createDirectories(workDir.resolve("fuse"));
        Path pidFile = workDir.resolve("nbdfuse.pid");
        Files.deleteIfExists(pidFile);
        Client.Running nbdfuse = Client.start("nbdfuse", "-P", pidFile.toString(),
                mountPoint.resolve("disk").toString(), uri);
        FuseLoopDevice device = new FuseLoopDevice(mountPoint, nbdfuse);
        try {
            device.awaitMounted(pidFile);
            device.loopDevice = Client.run("losetup", "--find", "--show", device.file().toString())
                    .assertSuccess().stdout().trim();
            return device;
        } catch (RuntimeException | Error | IOException e) {
            device.close();
            throw e;
        }
    }

    String loopDevice() {
        return loopDevice;
    }

    private Path file() {
        return mountPoint.resolve("disk");
    }

    private void awaitMounted(Path pidFile) throws IOException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(pidFile) && Files.size(pidFile) > 0 && Files.exists(file())) {
                return;
            }
            if (!nbdfuse.isAlive()) {
                fail(nbdfuse.await(Duration.ofSeconds(1)).describe("exited before mounting"));
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        fail("nbdfuse did not mount within " + READY_TIMEOUT.toSeconds() + " s; it printed: "
                + nbdfuse.stdout() + nbdfuse.stderr());
    }

    @Override
    public void close() throws IOException {
        try {
            if (loopDevice != null) {
                Client.run("losetup", "-d", loopDevice).assertSuccess();
            }
        } finally {
            try {
                Client.run("fusermount3", "-u", mountPoint.toString());
                nbdfuse.await(Duration.ofSeconds(10)).assertSuccess();
            } finally {
                nbdfuse.close();
            }
        }
    }
}
