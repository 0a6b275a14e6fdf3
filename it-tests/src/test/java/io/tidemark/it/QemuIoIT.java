package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * qemu-io drives single NBD commands through QEMU's NBD client: plain and FUA writes, reads
 * with pattern checks, trim, write-zeroes, and asynchronous requests kept in flight together.
 */
class QemuIoIT {

    private static final int K64 = 64 * 1024;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void writesAndReadsWithPatterns() throws Exception {
        Path image = TestImages.sparse(dir.resolve("d.raw"), 16 * MIB);
        NbdServer server = servers.start(Export.writable("disk", image));

        qemuIo(server,
                "write -P 0x5a 0 1M",
                "write -f -P 0x3c 1M 64k",
                "write -P 0x77 4095 3",
                "flush",
                "read -P 0x5a 0 4095",
                "read -P 0x77 4095 3",
                "read -P 0x5a 4098 1044478",
                "read -P 0x3c 1M 64k",
                "read -P 0 1088k 64k");

        assertThat(byteAt(image, 0)).isEqualTo((byte) 0x5a);
        assertThat(byteAt(image, 4096)).isEqualTo((byte) 0x77);
        assertThat(byteAt(image, MIB + K64 - 1)).isEqualTo((byte) 0x3c);
    }

    @Test
    void writeZeroesAndDiscardLeaveZerosAndTrimPunchesTheBackingFile() throws Exception {
        Path image = TestImages.sparse(dir.resolve("d.raw"), 16 * MIB);
        NbdServer server = servers.start(Export.writable("disk", image));

        qemuIo(server,
                "write -P 0xee 0 8M",
                "write -z 1M 1M",
                "write -z -u 3M 1M",
                "discard 5M 2M",
                "flush",
                "read -P 0xee 0 1M",
                "read -P 0 1M 1M",
                "read -P 0xee 2M 1M",
                "read -P 0 3M 1M",
                "read -P 0xee 4M 1M",
                "read -P 0xee 7M 1M");

        server.close();
        assertThat(byteAt(image, MIB)).isZero();
        assertThat(byteAt(image, 3 * MIB)).isZero();
        ExtentMap map = ImageTool.map(image);
        assertThat(map.isAll(ExtentMap.Kind.HOLE, 5 * MIB, 2 * MIB))
                .as("trimmed 5M..7M is a hole in the backing file: %s", map).isTrue();
    }

    @Test
    void asynchronousRequestsInFlightTogetherCompleteCorrectly() throws Exception {
        Path image = TestImages.sparse(dir.resolve("d.raw"), 16 * MIB);
        NbdServer server = servers.start(Export.writable("disk", image));

        List<String> commands = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            commands.add("aio_write -P " + (0x10 + i) + " " + i * K64 + " 64k");
        }
        for (int i = 0; i < 8; i++) {
            commands.add("aio_read -P 0 " + (8 * MIB + i * K64) + " 64k");
        }
        commands.add("aio_write -z 12M 1M");
        commands.add("aio_flush");
        for (int i = 0; i < 16; i++) {
            commands.add("aio_read -P " + (0x10 + i) + " " + i * K64 + " 64k");
        }
        commands.add("aio_flush");
        qemuIo(server, commands.toArray(String[]::new));

        for (int i = 0; i < 16; i++) {
            assertThat(byteAt(image, (long) i * K64 + K64 - 1)).isEqualTo((byte) (0x10 + i));
        }
    }

    /** Runs qemu-io with one {@code -c} per command; a failed pattern check or request fails the test. */
    private static Client.Result qemuIo(NbdServer server, String... commands) throws Exception {
        List<String> args = new ArrayList<>(List.of("-f", "raw", server.uri()));
        for (String command : commands) {
            args.add("-c");
            args.add(command);
        }
        Client.Result result = Client.run("qemu-io", args.toArray(String[]::new)).assertSuccess();
        assertThat(result.stdout() + result.stderr())
                .as(result.describe("reported a failure"))
                .doesNotContainIgnoringCase("failed")
                .doesNotContainIgnoringCase("error");
        return result;
    }

    private static byte byteAt(Path image, long offset) throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "r")) {
            file.seek(offset);
            return file.readByte();
        }
    }
}
