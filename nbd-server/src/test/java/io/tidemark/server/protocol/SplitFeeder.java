package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Feeds the same bytes to fresh decoders split at every position, and byte by byte. */
final class SplitFeeder {

    private SplitFeeder() {
    }

    /** Asserts that every way of splitting {@code bytes} in two decodes to {@code expected}. */
    static void assertDecodesAtEverySplit(Supplier<ChannelHandler> decoder, byte[] bytes, List<?> expected) {
        for (int split = 0; split <= bytes.length; split++) {
            EmbeddedChannel channel = new EmbeddedChannel(decoder.get());
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, 0, split));
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, split, bytes.length - split));
            assertThat(drain(channel)).as("split at byte %d", split).isEqualTo(expected);
            channel.finishAndReleaseAll();
        }
        assertDecodesByteByByte(decoder, bytes, expected);
    }

    /** Asserts that feeding {@code bytes} one at a time decodes to {@code expected}. */
    static void assertDecodesByteByByte(Supplier<ChannelHandler> decoder, byte[] bytes, List<?> expected) {
        EmbeddedChannel channel = new EmbeddedChannel(decoder.get());
        for (byte b : bytes) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertThat(drain(channel)).as("byte by byte").isEqualTo(expected);
        channel.finishAndReleaseAll();
    }

    static List<Object> drain(EmbeddedChannel channel) {
        List<Object> out = new ArrayList<>();
        for (Object o; (o = channel.readInbound()) != null; ) {
            out.add(o);
            if (o instanceof Request r && r.payload() != null) {
                // compare by content after the channel is done with it
                out.set(out.size() - 1, new Request(r.flags(), r.command(), r.cookie(), r.offset(), r.length(),
                        Unpooled.copiedBuffer(r.payload())));
                ReferenceCountUtil.release(r.payload());
            }
        }
        return out;
    }
}
