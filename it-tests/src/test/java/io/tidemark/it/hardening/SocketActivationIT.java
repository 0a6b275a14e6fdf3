package io.tidemark.it.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Systemd socket activation: {@code nbdinfo -- [ tidemark serve … ]} makes a Unix socket,
 * starts the server with it as descriptor 3 (LISTEN_PID, LISTEN_FDS) and connects to it.
 */
class SocketActivationIT {

    @TempDir
    Path dir;

    @Test
    void nbdinfoStartsTheServerOnAnInheritedSocket() throws Exception {
        Path image = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(3L * 1024 * 1024);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar = Path.of(System.getProperty("tidemark.jar", "../nbd-server/target/tidemark.jar"))
                .toAbsolutePath().toString();
        ExternalCommand.Result info = ExternalCommand.run("nbdinfo", "--", "[", java,
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar", jar, "serve",
                "--control", "off", "--export", "disk=" + image, "]");
        assertThat(info.exitCode()).as("nbdinfo -- [ tidemark serve ]: %s", info.output()).isZero();
        assertThat(info.output()).contains(Long.toString(3L * 1024 * 1024));
    }
}
