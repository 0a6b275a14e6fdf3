package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.FileRegion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.server.protocol.NbdProtocol.Command;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A READ of a range the device stores plainly in its file leaves the transmission handler as a
 * file region carrying the file's bytes; with an {@link SslHandler} in the pipeline (a TLS
 * connection) the same READ leaves as buffers, which TLS can encrypt. Short reads use buffers.
 */
class ZeroCopyReadsTest {

    private static final int SIZE = 1 << 20;
    private static final int LENGTH = 128 * 1024;
    private static final int OFFSET = 4096 + 7;

    @TempDir
    Path dir;

    /** Sends one simple READ and returns what the server wrote: the reply as bytes and whether a file region carried them. */
    private record Sent(byte[] bytes, boolean fileRegion) {
    }

    private Sent read(boolean tls, int length) throws Exception {
        byte[] data = new byte[SIZE];
        new Random(11).nextBytes(data);
        Path path = dir.resolve("disk.raw");
        Files.write(path, data);
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            EmbeddedConnection connection = new EmbeddedConnection(new Export("disk", "", device));
            if (tls) {
                // Stands in for the handler STARTTLS installs; it sits behind the transmission
                // handler, so nothing passes through it, but its presence is what the server checks.
                SSLEngine engine = SSLContext.getDefault().createSSLEngine();
                engine.setUseClientMode(false);
                connection.channel.pipeline().addLast("tls", new SslHandler(engine));
            }
            connection.client().handshake("disk", false, false);
            connection.client().request(0, Command.READ, 5, OFFSET, length);
            connection.channel.runPendingTasks();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            WritableByteChannel sink = Channels.newChannel(out);
            boolean region = false;
            for (Object msg; (msg = connection.channel.readOutbound()) != null; ReferenceCountUtil.release(msg)) {
                if (msg instanceof FileRegion f) {
                    region = true;
                    while (f.transferred() < f.count()) {
                        f.transferTo(sink, f.transferred());
                    }
                } else {
                    ByteBuf b = (ByteBuf) msg;
                    b.readBytes(out, b.readableBytes());
                }
            }
            byte[] bytes = out.toByteArray();
            assertThat(bytes).hasSize(16 + length);
            assertThat(Arrays.copyOfRange(bytes, 16, bytes.length))
                    .isEqualTo(Arrays.copyOfRange(data, OFFSET, OFFSET + length));
            connection.channel.finishAndReleaseAll();
            return new Sent(bytes, region);
        }
    }

    @Test
    void aLongReadOfAPlainFileGoesOutAsAFileRegionWithTheFilesBytes() throws Exception {
        assertThat(read(false, LENGTH).fileRegion()).isTrue();
    }

    @Test
    void overTlsTheSameReadGoesOutAsBuffers() throws Exception {
        assertThat(read(true, LENGTH).fileRegion()).isFalse();
    }

    @Test
    void aShortReadGoesOutAsBuffers() throws Exception {
        assertThat(read(false, ZeroCopyReads.MINIMUM - 1).fileRegion()).isFalse();
    }
}
