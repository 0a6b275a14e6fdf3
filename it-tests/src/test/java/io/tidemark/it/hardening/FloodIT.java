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
 * them (bounded memory: its resident size stays under a limit while they push), and a
 * well-behaved client must still be served meanwhile.
 */
class FloodIT {

    private static final int FLOODERS = 8;
    private static final long FLOOD_MILLIS = 15_000;
    private static final long MIB = 1024 * 1024;
    /**
     * What the server may hold per connection: ConnectionLimits.DEFAULT's 64 MiB of requests in
     * flight plus one 32 MiB WRITE payload being received. There is no server-wide budget yet,
     * so the bound grows with the number of connections.
     */
    private static final long PER_CONNECTION = 96 * MIB;
    /** Heap (-Xmx256m), code, thread stacks and the baseline measured before the flood. */
    private static final long BASELINE_SLACK = 384 * MIB;

    @TempDir
    Path dir;

    @Test
    void floodingClientsDoNotExhaustTheServerOrStarveOthers() throws Exception {
        Path image = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(256L * 1024 * 1024);
        }
        Workload workload = new Workload(dir);
        try (ServerProcess server = ServerProcess.start(dir.resolve("server.log"), "disk=" + image)) {
            List<FloodClient> flooders = new ArrayList<>();
            for (int i = 0; i < FLOODERS; i++) {
                flooders.add(FloodClient.connect(server.uri("disk"), i % 2 == 1));
            }
            long rssBefore = server.residentBytes();
            long maxRss = rssBefore;
            int served = 0;
            long end = System.currentTimeMillis() + FLOOD_MILLIS;
            while (System.currentTimeMillis() < end) {
                for (FloodClient flooder : flooders) {
                    flooder.push();
                }
                maxRss = Math.max(maxRss, server.residentBytes());
                Workload.Result ok = workload.run(null, "write1", server.uri("disk"), Long.toString(served * 65536L),
                        "65536", "5");
                assertThat(ok.stdout()).as("a well-behaved client during the flood").startsWith("ok");
                served++;
                maxRss = Math.max(maxRss, server.residentBytes());
            }
            long requests = flooders.stream().mapToLong(FloodClient::requestsSent).sum();
            for (FloodClient flooder : flooders) {
                flooder.close();
            }
            System.out.printf("flood: %d clients sent %d requests (READ or WRITE of 32 MiB); RSS %d MiB before, %d MiB at most;"
                    + " %d writes of a good client served%n", FLOODERS, requests, rssBefore >> 20, maxRss >> 20, served);
            assertThat(server.isAlive()).isTrue();
            assertThat(maxRss).as("server resident size during the flood")
                    .isLessThan(rssBefore + BASELINE_SLACK + FLOODERS * PER_CONNECTION);
            assertThat(served).isGreaterThan(1);
            assertThat(server.log()).doesNotContain("unexpected error").doesNotContain("OutOfMemory");
        }
    }
}
