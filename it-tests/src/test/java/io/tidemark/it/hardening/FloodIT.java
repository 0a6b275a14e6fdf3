package io.tidemark.it.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many clients send maximal requests and never read a reply. The server must stop reading
 * them (bounded memory: its resident size stays under a limit while they push, whatever the
 * number of flooders), and a well-behaved client must still be served meanwhile, promptly.
 */
class FloodIT {

    private static final int FLOODERS = 16;
    private static final long FLOOD_MILLIS = 15_000;
    private static final long MIB = 1024 * 1024;
    /** The server-wide cap on request data held ({@code --max-bytes-in-flight}), given explicitly. */
    private static final long MAX_BYTES_IN_FLIGHT = 384 * MIB;
    /**
     * Beyond the cap: the heap (-Xmx256m), code, thread stacks, socket buffers, and WRITE payloads
     * still arriving when the cap was reached (at most one per connection, usually a few).
     */
    private static final long SLACK = 512 * MIB;
    /** A 64 KiB write of the good client, a new libnbd process each time, may take this long at most. */
    private static final long MAX_GOOD_CLIENT_MILLIS = 10_000;

    @TempDir
    Path dir;

    @Test
    void floodingClientsDoNotExhaustTheServerOrStarveOthers() throws Exception {
        Path image = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(256L * 1024 * 1024);
        }
        Workload workload = new Workload(dir);
        try (ServerProcess server = ServerProcess.serve(dir.resolve("server.log"), "--export", "disk=" + image,
                "--max-bytes-in-flight", (MAX_BYTES_IN_FLIGHT / MIB) + "M")) {
            List<FloodClient> flooders = new ArrayList<>();
            for (int i = 0; i < FLOODERS; i++) {
                flooders.add(FloodClient.connect(server.uri("disk"), i % 2 == 1));
            }
            long rssBefore = server.residentBytes();
            long maxRss = rssBefore;
            int served = 0;
            long slowest = 0;
            long end = System.currentTimeMillis() + FLOOD_MILLIS;
            while (System.currentTimeMillis() < end) {
                for (FloodClient flooder : flooders) {
                    flooder.push();
                }
                maxRss = Math.max(maxRss, server.residentBytes());
                long start = System.nanoTime();
                Workload.Result ok = workload.run(null, "write1", server.uri("disk"), Long.toString(served * 65536L),
                        "65536", "5");
                slowest = Math.max(slowest, (System.nanoTime() - start) / 1_000_000);
                assertThat(ok.stdout()).as("a well-behaved client during the flood").startsWith("ok");
                served++;
                maxRss = Math.max(maxRss, server.residentBytes());
            }
            long requests = flooders.stream().mapToLong(FloodClient::requestsSent).sum();
            for (FloodClient flooder : flooders) {
                flooder.close();
            }
            System.out.printf("flood: %d clients sent %d requests (READ or WRITE of 32 MiB); RSS %d MiB before, %d MiB at most;"
                    + " %d writes of a good client served, the slowest in %d ms%n", FLOODERS, requests, rssBefore >> 20,
                    maxRss >> 20, served, slowest);
            assertThat(server.isAlive()).isTrue();
            assertThat(maxRss).as("server resident size during the flood")
                    .isLessThan(rssBefore + MAX_BYTES_IN_FLIGHT + SLACK);
            assertThat(served).isGreaterThan(1);
            assertThat(slowest).as("the good client's slowest write, ms").isLessThan(MAX_GOOD_CLIENT_MILLIS);
            assertThat(server.log()).doesNotContain("unexpected error").doesNotContain("OutOfMemory");
        }
    }
}
