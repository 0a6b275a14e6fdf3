package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestDecoderTest {

    @Test
    void decodesRequestsWithAndWithoutPayloadAtEverySplit() {
        byte[] data = {10, 20, 30, 40, 50};
        byte[] bytes = Wire.of()
                .request(0, Command.READ, 1, 4096, 512)
                .request(CommandFlags.FUA, Command.WRITE, 2, 8, data.length).bytes(data)
                .request(0, Command.FLUSH, 3, 0, 0)
                .request(0, Command.WRITE, 4, 0, 0)
                .request(CommandFlags.REQ_ONE, Command.BLOCK_STATUS, -1L, 0, 0xffffffffL)
                .request(0, 0x77, 5, 1, 1)
                .request(0, Command.DISC, 6, 0, 0)
                .toArray();
        List<Object> expected = List.of(
                new Request(0, Command.READ, 1, 4096, 512, null),
                new Request(CommandFlags.FUA, Command.WRITE, 2, 8, 5, Unpooled.wrappedBuffer(data)),
                new Request(0, Command.FLUSH, 3, 0, 0, null),
                new Request(0, Command.WRITE, 4, 0, 0, Unpooled.EMPTY_BUFFER),
                new Request(CommandFlags.REQ_ONE, Command.BLOCK_STATUS, -1L, 0, 0xffffffffL, null),
                new Request(0, 0x77, 5, 1, 1, null),
                new Request(0, Command.DISC, 6, 0, 0, null));
        SplitFeeder.assertDecodesAtEverySplit(RequestDecoder::new, bytes, expected);
    }

    @Test
    void writeLongerThanTheLimitIsConsumedButNotBuffered() {
        long length = ProtocolLimits.MAX_PAYLOAD + 1L;
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.WRITE, 7, 0, length).toArray()));
        byte[] chunk = new byte[1 << 20];
        for (long left = length; left > 0; left -= chunk.length) {
            channel.writeInbound(Unpooled.wrappedBuffer(chunk, 0, (int) Math.min(chunk.length, left)));
        }
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.READ, 8, 0, 1).toArray()));
        assertThat(SplitFeeder.drain(channel)).containsExactly(
                new Request(0, Command.WRITE, 7, 0, length, null),
                new Request(0, Command.READ, 8, 0, 1, null));
    }

    @Test
    void badRequestMagicIsAFramingError() {
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder());
        byte[] bytes = Wire.of().u32(0x21e41c71).u16(0).u16(0).u64(1).u64(0).u32(0).toArray();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer(bytes)))
                .isInstanceOf(ProtocolViolationException.class)
                .hasMessageContaining("bad request magic 0x21e41c71");
    }

    @Test
    void aWriteHeaderAloneDoesNotBuyItsWholePayload() {
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder());
        TrackingAllocator allocator = new TrackingAllocator();
        channel.config().setAllocator(allocator);
        int length = ProtocolLimits.MAX_PAYLOAD;
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.WRITE, 1, 0, length).zeroes(100)
                .toArray()));
        assertThat(allocator.made).allSatisfy(b -> assertThat(b.capacity())
                .isLessThanOrEqualTo(RequestDecoder.UPFRONT_GATHER_CAPACITY));
        byte[] rest = new byte[length - 100];
        rest[rest.length - 1] = 9;
        channel.writeInbound(Unpooled.wrappedBuffer(rest));
        Request write = channel.readInbound();
        assertThat(write.payload().readableBytes()).isEqualTo(length);
        assertThat(write.payload().getByte(length - 1)).isEqualTo((byte) 9);
        write.releasePayload();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aOneMebibyteWriteArrivingInPiecesIsGatheredIntoOneBufferOfItsLength() {
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder());
        TrackingAllocator allocator = new TrackingAllocator();
        channel.config().setAllocator(allocator);
        int length = 1024 * 1024;
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.WRITE, 1, 0, length).zeroes(100)
                .toArray()));
        for (int sent = 100; sent < length; sent += 64 * 1024) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[Math.min(64 * 1024, length - sent)]));
        }
        Request write = channel.readInbound();
        assertThat(write.payload().readableBytes()).isEqualTo(length);
        assertThat(allocator.made).hasSize(1);
        assertThat(allocator.made.getFirst().capacity()).isEqualTo(length);
        write.releasePayload();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void socketReadsLandInThePayloadBufferAndEndUpInTheRequest(boolean extended) {
        int length = 1024 * 1024;
        byte[] data = new byte[length];
        new Random(7).nextBytes(data);
        EmbeddedChannel channel = new EmbeddedChannel();
        TrackingAllocator buffers = new TrackingAllocator();
        channel.config().setAllocator(buffers);
        PayloadLandingAllocator landing = new PayloadLandingAllocator(channel.config().getRecvByteBufAllocator());
        channel.config().setRecvByteBufAllocator(landing);
        RequestDecoder decoder = new RequestDecoder(extended);
        channel.pipeline().addLast(decoder);
        RecvByteBufAllocator.Handle reads = landing.newHandle();
        Wire header = extended
                ? Wire.of().extendedRequest(CommandFlags.PAYLOAD_LEN, Command.WRITE, 1, 4096, length)
                : Wire.of().request(0, Command.WRITE, 1, 4096, length);
        channel.writeInbound(Unpooled.wrappedBuffer(header.bytes(Arrays.copyOf(data, 100)).toArray()));

        ByteBuf first = reads.allocate(channel.alloc());
        assertThat(first.writableBytes()).isEqualTo(length - 100);
        first.writeBytes(data, 100, 300_000); // a short read
        channel.writeInbound(first);
        ByteBuf lost = reads.allocate(channel.alloc()); // a read that got nothing: the channel releases it
        lost.release();
        channel.writeInbound(Unpooled.wrappedBuffer(data, 300_100, 1000)); // an ordinary buffer is copied
        ByteBuf rest = reads.allocate(channel.alloc());
        assertThat(rest.writableBytes()).isEqualTo(length - 301_100);
        rest.writeBytes(data, 301_100, length - 301_100);
        channel.writeInbound(rest);

        Request write = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(write.payload())).isEqualTo(data);
        assertThat(buffers.made).hasSize(1);
        assertThat(decoder.payloadLanding()).isNull(); // between requests reads are ordinary
        write.releasePayload();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {4096, 65536})
    void payloadBytesThatCameWithTheHeaderStayPutUpToABlockBoundary(int alignment) {
        int length = RequestDecoder.MIN_SLICED_PAYLOAD;
        long offset = 3 * 4096 + 100;
        int withHeader = 30_000;
        byte[] data = new byte[length];
        new Random(9).nextBytes(data);
        EmbeddedChannel channel = new EmbeddedChannel();
        PayloadLandingAllocator landing = new PayloadLandingAllocator(channel.config().getRecvByteBufAllocator());
        channel.config().setRecvByteBufAllocator(landing);
        channel.pipeline().addLast(new RequestDecoder(false, alignment));
        RecvByteBufAllocator.Handle reads = landing.newHandle();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.WRITE, 1, offset, length)
                .bytes(Arrays.copyOf(data, withHeader)).toArray()));
        ByteBuf rest = reads.allocate(channel.alloc());
        rest.writeBytes(data, withHeader, rest.writableBytes());
        channel.writeInbound(rest);

        Request write = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(write.payload())).isEqualTo(data);
        long cut = (offset + withHeader) / alignment * alignment - offset; // 20380 for 4 KiB blocks
        if (cut >= RequestDecoder.MIN_HEAD_SLICE) {
            assertThat(write.payload().nioBuffers()).as("the part before the block boundary is not copied")
                    .extracting(java.nio.ByteBuffer::remaining).containsExactly((int) cut, (int) (length - cut));
        } else {
            assertThat(write.payload().nioBufferCount()).as("no boundary far enough in: one buffer").isEqualTo(1);
        }
        write.releasePayload();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aShorterPayloadIsGatheredInOneBuffer() {
        int length = RequestDecoder.MIN_SLICED_PAYLOAD - 4096;
        byte[] data = new byte[length];
        new Random(10).nextBytes(data);
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(false, 4096));
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.WRITE, 1, 0, length)
                .bytes(Arrays.copyOf(data, 40_000)).toArray()));
        channel.writeInbound(Unpooled.wrappedBuffer(data, 40_000, length - 40_000));
        Request write = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(write.payload())).isEqualTo(data);
        assertThat(write.payload().nioBufferCount()).isEqualTo(1);
        write.releasePayload();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aPayloadRemainderTooShortForAReadOfItsOwnIsNotOffered() {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setRecvByteBufAllocator(new PayloadLandingAllocator(channel.config().getRecvByteBufAllocator()));
        RequestDecoder decoder = new RequestDecoder();
        channel.pipeline().addLast(decoder);
        int length = 1024 * 1024;
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.WRITE, 1, 0, length)
                .zeroes(length - RequestDecoder.MIN_LANDING + 1).toArray()));
        assertThat(decoder.payloadLanding()).isNull();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void decodesExtendedRequestsWithSixtyFourBitLengthsAtEverySplit() {
        byte[] data = {1, 2, 3};
        byte[] contexts = Wire.of().u64(1L << 40).u32(1).toArray();
        byte[] bytes = Wire.of()
                .extendedRequest(0, Command.READ, 1, 4096, 512)
                .extendedRequest(CommandFlags.FUA | CommandFlags.PAYLOAD_LEN, Command.WRITE, 2, 1L << 33, data.length)
                .bytes(data)
                .extendedRequest(CommandFlags.NO_HOLE, Command.WRITE_ZEROES, 3, 1L << 32, 5L << 30)
                .extendedRequest(0, Command.TRIM, 4, 0, -1L)
                .extendedRequest(CommandFlags.PAYLOAD_LEN, Command.BLOCK_STATUS, 5, 0, contexts.length).bytes(contexts)
                .extendedRequest(CommandFlags.PAYLOAD_LEN, Command.CACHE, 6, 0, 0)
                .extendedRequest(0, Command.WRITE, 7, 0, 4096)
                .extendedRequest(0, Command.DISC, 8, 0, 0)
                .toArray();
        List<Object> expected = List.of(
                new Request(0, Command.READ, 1, 4096, 512, null),
                new Request(CommandFlags.FUA | CommandFlags.PAYLOAD_LEN, Command.WRITE, 2, 1L << 33, 3,
                        Unpooled.wrappedBuffer(data)),
                new Request(CommandFlags.NO_HOLE, Command.WRITE_ZEROES, 3, 1L << 32, 5L << 30, null),
                new Request(0, Command.TRIM, 4, 0, -1L, null),
                // a payload on another command than WRITE is consumed, not kept: the handler refuses the flag
                new Request(CommandFlags.PAYLOAD_LEN, Command.BLOCK_STATUS, 5, 0, contexts.length, null),
                new Request(CommandFlags.PAYLOAD_LEN, Command.CACHE, 6, 0, 0, null),
                // no PAYLOAD_LEN: an effect length, no data follows
                new Request(0, Command.WRITE, 7, 0, 4096, null),
                new Request(0, Command.DISC, 8, 0, 0, null));
        SplitFeeder.assertDecodesAtEverySplit(() -> new RequestDecoder(true), bytes, expected);
    }

    @Test
    void extendedPayloadOverTheLimitIsAFramingError() {
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(true));
        byte[] bytes = Wire.of().extendedRequest(CommandFlags.PAYLOAD_LEN, Command.WRITE, 1, 0,
                ProtocolLimits.MAX_PAYLOAD + 1L).toArray();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer(bytes)))
                .isInstanceOf(ProtocolViolationException.class)
                .hasMessage("NBD_CMD_WRITE payload of 33554433 bytes exceeds the maximum payload 33554432");
    }

    @Test
    void theWrongHeaderStyleIsAFramingErrorThatSaysWhy() {
        EmbeddedChannel extended = new EmbeddedChannel(new RequestDecoder(true));
        byte[] compact = Wire.of().request(0, Command.READ, 1, 0, 512).toArray(); // 28 bytes: refused at once
        assertThatThrownBy(() -> extended.writeInbound(Unpooled.wrappedBuffer(compact)))
                .isInstanceOf(ProtocolViolationException.class)
                .hasMessageContaining("compact header, but NBD_OPT_EXTENDED_HEADERS was negotiated");
        EmbeddedChannel plain = new EmbeddedChannel(new RequestDecoder());
        byte[] bytes = Wire.of().extendedRequest(0, Command.READ, 1, 0, 512).toArray();
        assertThatThrownBy(() -> plain.writeInbound(Unpooled.wrappedBuffer(bytes)))
                .isInstanceOf(ProtocolViolationException.class)
                .hasMessageContaining("extended header, but NBD_OPT_EXTENDED_HEADERS was not negotiated");
    }
}
