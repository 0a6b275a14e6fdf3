package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.server.protocol.TrackingAllocator;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.slf4j.LoggerFactory;

/**
 * Coverage-guided fuzzing of a whole server connection: handshake, the swap to transmission,
 * validation and execution against in-memory exports. Whatever the client sends, the server
 * must not hit an unexpected error (nothing logged at WARN or above), must release every buffer
 * it allocated, and must answer the same bytes however the input is split into reads. Seeds
 * live in {@code ConnectionFuzzTestInputs/}; see docs/fuzzing.md for long runs.
 */
class ConnectionFuzzTest {

    private static final int EXPORT_SIZE = 256 * 1024;
    private static final Executor INLINE = Runnable::run;

    private final ListAppender<ILoggingEvent> warnings = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    @BeforeEach
    void captureWarnings() {
        warnings.start();
        root.addAppender(warnings);
    }

    @AfterEach
    void stopCapturing() {
        root.detachAppender(warnings);
    }

    @FuzzTest(maxDuration = "10s")
    void anyClientBytesGetConsistentAnswersWithoutErrorsOrLeaks(FuzzedDataProvider data) {
        int[] cuts = data.consumeInts(data.consumeInt(0, 8));
        byte[] input = data.consumeRemainingAsBytes();

        byte[] whole = serve(input, new int[0]);
        byte[] split = serve(input, cuts);

        assertThat(unexpected()).as("warnings logged while serving").isEmpty();
        assertThat(split).as("server output when the input arrives in pieces").isEqualTo(whole);
    }

    private List<String> unexpected() {
        return warnings.list.stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()
                        + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getClassName() + ": "
                        + e.getThrowableProxy().getMessage()))
                .toList();
    }

    /** Serves one connection on fresh exports, feeding {@code input} in chunks; returns what the server sent. */
    private static byte[] serve(byte[] input, int[] cuts) {
        ExportRegistry exports = new ExportRegistry(List.of(
                new Export("disk", "a writable disk", new MemoryDevice(EXPORT_SIZE)),
                new Export("ro", "", new MemoryDevice(EXPORT_SIZE, new DeviceCapabilities(true, false, false, true, 4096))),
                new Export("flat", "", new MemoryDevice(EXPORT_SIZE, new DeviceCapabilities(false, false, false, false, 512)))));
        ServerContext context = new ServerContext(exports, DiskExecutors.shared(INLINE), new ShutdownSignal(),
                ConnectionLimits.DEFAULT, InFlightMemory.unlimited());
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(false, false, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServer.initConnection(ch.pipeline(), context);
            }
        });
        channel.config().setAllocator(alloc);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        try {
            channel.register();
            int start = 0;
            for (int end : chunkEnds(input.length, cuts)) {
                if (!channel.isOpen()) {
                    break;
                }
                channel.writeInbound(alloc.heapBuffer(end - start).writeBytes(input, start, end - start));
                channel.runPendingTasks();
                drainOutbound(channel, sent);
                start = end;
            }
            channel.close();
            channel.runPendingTasks();
            drainOutbound(channel, sent);
        } catch (Exception e) {
            throw new AssertionError("the channel threw (the pipeline should have handled it)", e);
        } finally {
            channel.finishAndReleaseAll();
        }
        assertThat(alloc.unreleased()).as("buffers the server did not release").isEmpty();
        return sent.toByteArray();
    }

    private static void drainOutbound(EmbeddedChannel channel, ByteArrayOutputStream sent) {
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) o;
            sent.writeBytes(ByteBufUtil.getBytes(buf));
            buf.release();
        }
    }

    private static int[] chunkEnds(int length, int[] cuts) {
        int[] ends = Arrays.stream(cuts).filter(c -> c > 0 && c < length).sorted().distinct().toArray();
        int[] all = Arrays.copyOf(ends, ends.length + 1);
        all[ends.length] = length;
        return all;
    }
}
