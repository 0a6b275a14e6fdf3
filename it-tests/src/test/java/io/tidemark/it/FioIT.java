package io.tidemark.it;

import static io.tidemark.it.TestImages.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
 * (multi-conn): random writes of 512 B to 256 KiB at 512-byte alignment (so most straddle
 * clusters or cover them partly), verified with crc32c when read back.
 */
class FioIT {

    private static final int JOBS = 4;
    private static final long REGION = 8 * MIB;

    @RegisterExtension
    final NbdServerExtension servers = new NbdServerExtension();

    @TempDir
    Path dir;

    @Test
    void fourConnectionsOfRandomWritesToARawExportVerifyWithCrc32c() throws Exception {
        fourConnectionsOfRandomWritesVerify(TestImages.sparse(dir.resolve("disk.raw"), JOBS * REGION));
    }

    /** Four connections allocating clusters of one thin image at the same time. */
    @Test
    void fourConnectionsOfRandomWritesToAThinExportVerifyWithCrc32c() throws Exception {
        assumeTrue(servers.kind() == ServerKind.TIDEMARK, "nbdkit cannot serve tidemark's thin images");
        Path image = dir.resolve("disk.tdm");
        ImageTool.createThin(image, "32M");
        fourConnectionsOfRandomWritesVerify(image);
        servers.stopAll();
        assertThat(ImageTool.check(image)).as("tidemark image check after the server stopped")
                .isEqualTo(ImageTool.CHECK_CLEAN);
    }

    private void fourConnectionsOfRandomWritesVerify(Path image) throws Exception {
        NbdServer server = servers.start(Export.writable("disk", image));
        Path report = dir.resolve("fio.json");

        Client.run(Duration.ofSeconds(120), "fio",
                "--name=multiconn", "--ioengine=nbd", "--uri=" + server.uri("disk"),
                "--rw=randwrite", "--bsrange=512-256k", "--bs_unaligned", "--iodepth=16",
                "--numjobs=" + JOBS, "--size=" + REGION, "--offset_increment=" + REGION,
                "--fsync=256", "--end_fsync=1",
                "--verify=crc32c", "--verify_fatal=1", "--verify_state_save=0",
                "--group_reporting", "--output-format=json", "--output=" + report).assertSuccess();

        JsonNode job = new ObjectMapper().readTree(report.toFile()).get("jobs").get(0);
        assertThat(job.get("error").asInt()).as("fio job error").isZero();
        long written = job.get("write").get("io_bytes").asLong();
        // Random block sizes stop short of the region's end by less than one block per job.
        assertThat(written).as("bytes written").isBetween(JOBS * REGION - JOBS * 256 * 1024, JOBS * REGION);
        assertThat(job.get("read").get("io_bytes").asLong()).as("bytes read back and verified").isEqualTo(written);
        Path copy = dir.resolve("copy.raw");
        Client.run("nbdcopy", server.uri("disk"), copy.toString()).assertSuccess();
        try (RandomAccessFile file = new RandomAccessFile(copy.toFile(), "r")) {
            for (int region = 0; region < JOBS; region++) {
                file.seek(region * REGION);
                assertThat(file.readLong()).as("region %d written", region).isNotZero();
            }
        }
    }
}
