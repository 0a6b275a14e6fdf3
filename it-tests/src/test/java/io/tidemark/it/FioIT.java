package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * fio's nbd engine (libnbd) with 4 jobs, each its own connection to the same export
 * (multi-conn), random writes with crc32c verification read back over the same connections.
 */
class FioIT {

    private static final int JOBS = 4;
    private static final long REGION = 8 * MIB;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void fourConnectionsOfRandomWritesVerifyWithCrc32c() throws Exception {
        Path image = TestImages.sparse(dir.resolve("disk.raw"), JOBS * REGION);
        NbdServer server = servers.start(Export.writable("disk", image));
        Path report = dir.resolve("fio.json");

        Client.run(Duration.ofSeconds(120), "fio",
                "--name=multiconn", "--ioengine=nbd", "--uri=" + server.uri("disk"),
                "--rw=randwrite", "--bs=4k", "--iodepth=8",
                "--numjobs=" + JOBS, "--size=" + REGION, "--offset_increment=" + REGION,
                "--fsync=256", "--end_fsync=1",
                "--verify=crc32c", "--verify_fatal=1", "--verify_state_save=0",
                "--group_reporting", "--output-format=json", "--output=" + report).assertSuccess();

        JsonNode job = new ObjectMapper().readTree(report.toFile()).get("jobs").get(0);
        assertThat(job.get("error").asInt()).as("fio job error").isZero();
        assertThat(job.get("write").get("io_bytes").asLong()).as("bytes written").isEqualTo(JOBS * REGION);
        assertThat(job.get("read").get("io_bytes").asLong()).as("bytes read back and verified")
                .isEqualTo(JOBS * REGION);
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "r")) {
            for (int region = 0; region < JOBS; region++) {
                file.seek(region * REGION);
                assertThat(file.readLong()).as("region %d written through to the image", region).isNotZero();
            }
        }
    }
}
