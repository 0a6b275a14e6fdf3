package io.tidemark.it.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the server while four libnbd clients write with periodic flushes, repeated: after
 * each crash the image checks clean (or with leaks only), and every write acknowledged before a
 * FLUSH that completed reads back from a restarted server. Each client writes its own region in
 * passes of pieces that do not overlap, until the server dies; a piece flushed in the last pass
 * has exactly one right content.
 */
class KillDuringWritesIT {

    private static final int ROUNDS = 3;
    private static final int CLIENTS = 4;
    private static final long REGION = 16L * 1024 * 1024;
    private static final int FLUSH_EVERY = 8;
    /** Fixed, so a failing schedule of kills can be replayed; printed with every round. */
    private static final long SEED = 0x71de_0001L;

    @TempDir
    Path dir;

    @Test
    void everyFlushedWriteToAThinImageSurvivesKillMinus9() throws Exception {
        Path image = dir.resolve("disk.tdm");
        ImageCheck.createThin(image, (CLIENTS * REGION >> 20) + "M");
        killRepeatedly(image);
    }

    @Test
    void everyFlushedWriteToARawImageSurvivesKillMinus9() throws Exception {
        Path image = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(CLIENTS * REGION);
        }
        killRepeatedly(image);
    }

    private void killRepeatedly(Path image) throws Exception {
        Workload workload = new Workload(dir);
        Random random = new Random(SEED);
        int verifiedTotal = 0;
        long passes = 0;
        for (int round = 1; round <= ROUNDS; round++) {
            ServerProcess server = ServerProcess.start(dir.resolve("server-" + round + ".log"), "disk=" + image);
            List<Process> clients = new ArrayList<>();
            List<Path> outputs = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                Path out = dir.resolve("round" + round + "-client" + c + ".out");
                outputs.add(out);
                clients.add(workload.start(out, "write", server.uri("disk"), Long.toString(c * REGION),
                        Long.toString(REGION), Integer.toString(round * 100 + c), Integer.toString(FLUSH_EVERY)));
            }
            awaitFirstFlushes(outputs);
            long killAfter = 500 + random.nextInt(2000);
            Thread.sleep(killAfter);
            assertThat(server.isAlive()).as("server alive before the kill in round %d", round).isTrue();
            server.kill9();
            for (Process client : clients) {
                assertThat(client.waitFor(60, TimeUnit.SECONDS)).as("client ended after the kill").isTrue();
            }

            ImageCheck.Result check = ImageCheck.run(image);
            assertThat(check.cleanOrLeaksOnly()).as("image check after kill in round %d (seed %x): %s", round, SEED,
                    check.output()).isTrue();

            StringBuilder flushed = new StringBuilder();
            int count = 0;
            for (Path out : outputs) {
                List<String> lines = Files.readAllLines(out);
                int lastPass = lastIndexOfPass(lines);
                assertThat(lastPass).as("client output %s has passes", out).isNotNegative();
                // earlier passes may be overwritten by unflushed writes of the last one: check the last pass
                for (String line : lines.subList(lastPass, lines.size())) {
                    if (line.matches("flushed \\d+ \\d+ \\d+")) {
                        flushed.append(line).append('\n');
                        count++;
                    }
                }
                passes += lines.size() - lines.stream().filter(l -> !l.startsWith("pass ")).count();
            }
            assertThat(count).as("writes flushed before the kill in round %d (killed %d ms after the first flushes)", round, killAfter)
                    .isPositive();
            try (ServerProcess restarted = ServerProcess.start(dir.resolve("restart-" + round + ".log"),
                    "disk=" + image)) {
                Workload.Result verify = workload.run(flushed.toString(), "verify", restarted.uri("disk"));
                assertThat(verify.exitCode()).as("read-back after kill in round %d (seed %x): %s%s", round, SEED,
                        verify.stdout(), verify.stderr()).isZero();
                assertThat(verify.stdout()).contains("verified " + count);
            }
            System.out.printf("%s round %d: killed %d ms after the first flushes, %d flushed writes read back, check exit %d%n",
                    image.getFileName(), round, killAfter, count, check.exitCode());
            verifiedTotal += count;
        }
        System.out.printf("%s: kill -9 survived %d times, %d flushed writes verified (%d passes over the regions)%n",
                image.getFileName(), ROUNDS, verifiedTotal, passes);
    }

    /** Waits until every client has had a FLUSH answered, so that each kill lands mid-workload. */
    private static void awaitFirstFlushes(List<Path> outputs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (Path out : outputs) {
            while (!Files.exists(out) || Files.readAllLines(out).stream().noneMatch(l -> l.startsWith("flushed "))) {
                assertThat(System.nanoTime()).as("client %s flushed within 60 s", out).isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    private static int lastIndexOfPass(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("pass ")) {
                return i;
            }
        }
        return -1;
    }
}
