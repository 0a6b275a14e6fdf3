package io.tidemark.server.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.image.BlockDevice;
import io.tidemark.server.cli.TidemarkCommand;
import io.tidemark.threshold.EventFanout;
import io.tidemark.threshold.EventStreamHub;
import io.tidemark.threshold.ExportState;
import io.tidemark.threshold.QuotaPolicy;
import io.tidemark.threshold.ThresholdMonitor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The {@code threshold}, {@code quota} and {@code events} commands against a real control API. */
class ControlCommandsTest {

    private static final int SIZE = 1 << 20;

    private final EventStreamHub hub = new EventStreamHub();
    private final MemoryDevice device = new MemoryDevice(SIZE);
    private ThresholdMonitor monitor;
    private ControlServer server;

    @BeforeEach
    void start() throws Exception {
        monitor = ThresholdMonitor.start("disk", SIZE, device::usage, 0, ExportState.EMPTY, ThresholdMonitor.StateStore.NONE,
                new EventFanout(List.of(hub)));
        device.listener(monitor);
        server = ControlServer.start(new InetSocketAddress("127.0.0.1", 0), () -> List.of(exportOf()), hub,
                new TidemarkMetrics(), null);
    }

    private ControlledExport exportOf() {
        return new ControlledExport() {
            @Override
            public String name() {
                return "disk";
            }

            @Override
            public BlockDevice device() {
                return device;
            }

            @Override
            public ThresholdMonitor monitor() {
                return monitor;
            }

            @Override
            public int connections() {
                return 0;
            }
        };
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        monitor.close();
    }

    private record Run(int exit, String out, String err) {
    }

    private Run run(String... args) {
        return runAgainst("127.0.0.1:" + server.address().getPort(), args);
    }

    private static Run runAgainst(String control, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = TidemarkCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--control";
        full[args.length + 1] = control;
        return new Run(cli.execute(full), out.toString(), err.toString());
    }

    @Test
    void setShowAndClearThresholds() throws Exception {
        Run set = run("threshold", "set", "disk", "64K");
        assertThat(set.exit()).as(set.err()).isZero();
        assertThat(set.out()).contains("threshold 'default' armed at 64K");
        assertThat(run("threshold", "set", "disk", "50%", "--name", "half", "--repeat", "128K").exit()).isZero();

        device.write(0, ByteBuffer.allocate(70_000), false);
        monitor.awaitIdle();
        Run show = run("threshold", "show", "disk");
        assertThat(show.out()).startsWith("export disk: usage 70000 of 1M, no quota")
                .contains("default: cleared at 64K, fired 1 time")
                .contains("half: armed at 50% (524288 bytes), repeating every 128K");
        Run json = run("threshold", "show", "disk", "--json");
        assertThat(new ObjectMapper().readTree(json.out())).hasSize(2);

        assertThat(run("threshold", "clear", "disk", "--name", "half").out()).contains("threshold 'half' cleared");
        assertThat(run("threshold", "clear", "disk").out()).contains("all thresholds cleared");
        assertThat(run("threshold", "show", "disk").out()).contains("no thresholds");
    }

    @Test
    void errorsAreOneLineNamingTheProblem() {
        Run unknown = run("threshold", "show", "nope");
        assertThat(unknown.exit()).isNotZero();
        assertThat(unknown.err()).contains("no export named 'nope'").contains("404");
        Run bad = run("threshold", "set", "disk", "12 parsecs");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("not a size");
        Run down = runAgainst("127.0.0.1:1", "threshold", "show", "disk");
        assertThat(down.exit()).isNotZero();
        assertThat(down.err()).contains("cannot reach the control API at 127.0.0.1:1");
    }

    @Test
    void quotaSet() throws Exception {
        Run r = run("quota", "set", "disk", "10M", "--policy", "pause", "--pause-timeout", "5");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("quota 10M (10485760 bytes), policy pause");
        assertThat(monitor.quota().orElseThrow().policy()).isEqualTo(QuotaPolicy.PAUSE);
        assertThat(monitor.quota().orElseThrow().pauseTimeout().toSeconds()).isEqualTo(5);
        assertThat(run("quota", "set", "disk", "0").out()).contains("no quota");
        assertThat(monitor.quota()).isEmpty();
    }

    @Test
    void eventsReconnectsAfterAServerRestartAndResumesAfterTheLastEvent() throws Exception {
        int port = server.address().getPort();
        CompletableFuture<Run> follower = CompletableFuture.supplyAsync(() -> run("events", "--count", "2"));
        awaitSubscribers(1);
        monitor.arm(new io.tidemark.threshold.ThresholdSetting("a", io.tidemark.threshold.ThresholdValue.parse("1K"), 0));
        device.write(0, ByteBuffer.allocate(2048), false);
        monitor.awaitIdle();
        server.close();
        // While the API is down an event happens; the restarted server replays it after "a".
        monitor.arm(new io.tidemark.threshold.ThresholdSetting("b", io.tidemark.threshold.ThresholdValue.parse("3K"), 0));
        device.write(0, ByteBuffer.allocate(4096), false);
        monitor.awaitIdle();
        ControlledExport export = exportOf();
        server = ControlServer.start(new InetSocketAddress("127.0.0.1", port), () -> List.of(export), hub,
                new TidemarkMetrics(), null);
        Run r = follower.get(15, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("reconnecting");
        assertThat(r.out().lines().map(l -> {
            try {
                return new ObjectMapper().readTree(l).path("threshold").asText();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList()).containsExactly("a", "b");
    }

    private void awaitSubscribers(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (hub.subscribers() < count) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void eventsPrintsOneJsonLinePerEvent() throws Exception {
        CompletableFuture<Run> follower = CompletableFuture.supplyAsync(() -> run("events", "disk", "--count", "2"));
        awaitSubscribers(1);
        run("threshold", "set", "disk", "4K", "--name", "a");
        run("threshold", "set", "disk", "8K", "--name", "b");
        device.write(0, ByteBuffer.allocate(10_000), false);
        Run r = follower.get(10, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(2);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        JsonNode second = json.readTree(lines.get(1));
        assertThat(first.path("threshold").asText()).isEqualTo("a");
        assertThat(second.path("threshold").asText()).isEqualTo("b");
        assertThat(second.path("sequence").asLong()).isEqualTo(first.path("sequence").asLong() + 1);
    }
}
