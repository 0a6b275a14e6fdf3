package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transmission details only a scripted client reaches: structured read chunks (holes, DF),
 * BLOCK_STATUS with REQ_ONE and a full walk, maximum-size and oversize requests, and the
 * WRITE_ZEROES flags. Assertions are in
 * src/test/resources/nbdsh/transmission.py.
 */
class NbdshTransmissionIT {

    private static final long SIZE = 64 * MIB;
    private static final long DATA_OFFSET = 20 * MIB;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void structuredReadsBlockStatusLimitsAndZeroes() throws Exception {
        Path image = TestImages.sparse(dir.resolve("disk.raw"), SIZE);
        TestImages.fillRandom(image, DATA_OFFSET, (int) MIB, new Random(53));
        byte[] data = new byte[(int) MIB];
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "r")) {
            file.seek(DATA_OFFSET);
            file.readFully(data);
        }
        Path dataFile = Files.write(dir.resolve("data.bin"), data);
        NbdServer server = servers.start(Export.writable("disk", image));

        Client.Result result = NbdshScript.named("transmission.py")
                .with("uri", server.uri("disk"))
                .with("size", SIZE)
                .with("data_offset", DATA_OFFSET)
                .with("data_file", dataFile.toString())
                // tidemark sends holes as OFFSET_HOLE chunks (issue 4); nbdkit's file plugin sends data.
                .withBoolean("expect_hole_chunks", servers.kind() == ServerKind.TIDEMARK)
                .run();

        assertThat(result.stdout()).contains(
                "ok: structured read over data and holes", "ok: DF read in one chunk",
                "ok: BLOCK_STATUS with REQ_ONE", "ok: BLOCK_STATUS walk",
                "a larger read is refused and the connection lives",
                "ok: WRITE_ZEROES plain and NO_HOLE");
    }
}
