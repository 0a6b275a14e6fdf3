package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs a fresh decoder over an input cut into chunks at given positions and reports what came
 * out. The fuzz tests' oracle: however the bytes are cut, a decoder must produce the same records
 * and fail (with a {@link ProtocolViolationException}, never anything else) at the same point,
 * and must release every buffer it was given.
 */
final class ChunkedDecoding {

    /** Records decoded, in order, and the framing error that stopped decoding (null if none). */
    record Outcome(List<Object> records, String violation) {
    }

    private ChunkedDecoding() {
    }

    /** Decodes {@code input} cut at {@code cuts} (positions, in any order; out-of-range ones are ignored). */
    static Outcome decode(Supplier<ChannelHandler> decoder, byte[] input, int... cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(false, false, decoder.get());
        channel.config().setAllocator(alloc);
        register(channel);
        List<ByteBuf> fed = new ArrayList<>();
        List<Object> records = new ArrayList<>();
        String violation = null;
        try {
            int start = 0;
            for (int end : chunkEnds(input.length, cuts)) {
                ByteBuf chunk = alloc.heapBuffer(end - start).writeBytes(input, start, end - start);
                fed.add(chunk);
                start = end;
                channel.writeInbound(chunk);
                records.addAll(SplitFeeder.drain(channel));
            }
        } catch (ProtocolViolationException e) {
            records.addAll(SplitFeeder.drain(channel));
            violation = e.getMessage();
        }
        finish(channel);
        List<String> leaks = alloc.unreleased();
        if (!leaks.isEmpty()) {
            throw new AssertionError("decoder leaked " + leaks);
        }
        return new Outcome(records, violation);
    }

    /**
     * Closes the channel and releases what it holds. Closing makes the decoder look at its
     * leftover bytes once more, which repeats a framing error already reported: ignored.
     */
    static void finish(EmbeddedChannel channel) {
        try {
            channel.finishAndReleaseAll();
        } catch (ProtocolViolationException e) {
            SplitFeeder.drain(channel); // releases what the decoder emitted at close
            channel.releaseOutbound();
        }
    }

    /** Registers a channel built unregistered (so that its allocator could be set first). */
    static void register(EmbeddedChannel channel) {
        try {
            channel.register();
        } catch (Exception e) {
            throw new IllegalStateException("registering an embedded channel failed", e);
        }
    }

    /** Every position a chunk ends at: the distinct cuts inside (0, length), then length. */
    private static int[] chunkEnds(int length, int[] cuts) {
        int[] ends = Arrays.stream(cuts).filter(c -> c > 0 && c < length).sorted().distinct().toArray();
        int[] all = Arrays.copyOf(ends, ends.length + 1);
        all[ends.length] = length;
        return length == 0 ? new int[0] : all;
    }

    /** Cut after every byte. */
    static int[] everyByte(int length) {
        int[] cuts = new int[length];
        Arrays.setAll(cuts, i -> i);
        return cuts;
    }
}
