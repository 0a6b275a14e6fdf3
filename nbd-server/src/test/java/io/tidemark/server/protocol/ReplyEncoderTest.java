package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyEncoderTest {

    private static byte[] encode(Reply reply) {
        EmbeddedChannel channel = new EmbeddedChannel(new ReplyEncoder());
        channel.writeOutbound(reply);
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        return bytes;
    }

    private static Wire chunk(int flags, int type, long cookie, int length) {
        return Wire.of().u32(Magic.STRUCTURED_REPLY).u16(flags).u16(type).u64(cookie).u32(length);
    }

    @Test
    void simpleReplyWithAndWithoutData() {
        assertThat(encode(new Reply.Simple(9, 22, null)))
                .isEqualTo(Wire.of().u32(Magic.SIMPLE_REPLY).u32(22).u64(9).toArray());
        assertThat(encode(new Reply.Simple(9, 0, Unpooled.wrappedBuffer(new byte[] {1, 2, 3}))))
                .isEqualTo(Wire.of().u32(Magic.SIMPLE_REPLY).u32(0).u64(9).bytes(new byte[] {1, 2, 3}).toArray());
    }

    @Test
    void structuredReadMarksOnlyTheLastChunkDone() {
        Reply reply = new Reply.Structured(5, List.of(
                new Reply.OffsetData(0, Unpooled.wrappedBuffer(new byte[] {7, 8})),
                new Reply.OffsetHole(2, 4096),
                new Reply.OffsetData(4098, Unpooled.wrappedBuffer(new byte[] {9}))));
        assertThat(encode(reply)).isEqualTo(Wire.of()
                .bytes(chunk(0, ReplyChunk.OFFSET_DATA, 5, 10).u64(0).bytes(new byte[] {7, 8}).toArray())
                .bytes(chunk(0, ReplyChunk.OFFSET_HOLE, 5, 12).u64(2).u32(4096).toArray())
                .bytes(chunk(ReplyChunk.FLAG_DONE, ReplyChunk.OFFSET_DATA, 5, 9).u64(4098).u8(9).toArray())
                .toArray());
    }

    @Test
    void blockStatusNoneAndError() {
        assertThat(encode(new Reply.Structured(1, List.of(new Reply.BlockStatus(1, List.of(
                new Reply.StatusDescriptor(4096, 0), new Reply.StatusDescriptor(-1, 3)))))))
                .isEqualTo(chunk(1, ReplyChunk.BLOCK_STATUS, 1, 20).u32(1).u32(4096).u32(0).u32(0xffffffffL).u32(3)
                        .toArray());
        assertThat(encode(new Reply.Structured(2, List.of(new Reply.None()))))
                .isEqualTo(chunk(1, ReplyChunk.NONE, 2, 0).toArray());
        assertThat(encode(new Reply.Structured(3, List.of(new Reply.Error(28, "full")))))
                .isEqualTo(chunk(1, ReplyChunk.ERROR, 3, 10).u32(28).u16(4).text("full").toArray());
    }

    private static Wire extendedChunk(int flags, int type, long cookie, long offset, long length) {
        return Wire.of().u32(Magic.EXTENDED_REPLY).u16(flags).u16(type).u64(cookie).u64(offset).u64(length);
    }

    @Test
    void extendedRepliesRepeatTheRequestOffsetAndCarrySixtyFourBitLengths() {
        long offset = 5L << 30;
        Reply read = new Reply.Extended(4, offset, List.of(
                new Reply.OffsetData(offset, Unpooled.wrappedBuffer(new byte[] {7, 8})),
                new Reply.OffsetHole(offset + 2, 4096)));
        assertThat(encode(read)).isEqualTo(Wire.of()
                .bytes(extendedChunk(0, ReplyChunk.OFFSET_DATA, 4, offset, 10).u64(offset).bytes(new byte[] {7, 8})
                        .toArray())
                .bytes(extendedChunk(ReplyChunk.FLAG_DONE, ReplyChunk.OFFSET_HOLE, 4, offset, 12).u64(offset + 2)
                        .u32(4096).toArray())
                .toArray());
        Reply status = new Reply.Extended(5, 0, List.of(new Reply.BlockStatus(1, List.of(
                new Reply.StatusDescriptor(6L << 30, 3), new Reply.StatusDescriptor(512, 0)))));
        assertThat(encode(status)).isEqualTo(extendedChunk(1, ReplyChunk.BLOCK_STATUS_EXT, 5, 0, 8 + 2 * 16)
                .u32(1).u32(2).u64(6L << 30).u64(3).u64(512).u64(0).toArray());
        assertThat(encode(new Reply.Extended(6, 99, List.of(new Reply.None()))))
                .isEqualTo(extendedChunk(1, ReplyChunk.NONE, 6, 99, 0).toArray());
        assertThat(encode(new Reply.Extended(7, 1, List.of(new Reply.Error(22, "bad")))))
                .isEqualTo(extendedChunk(1, ReplyChunk.ERROR, 7, 1, 9).u32(22).u16(3).text("bad").toArray());
    }

    /**
     * Three data chunks with a hole between the first two, so the encoder needs a second header
     * buffer after the first data chunk; that allocation fails. The reply must leave nothing on
     * the wire (a half reply would desynchronise the client) and no buffer unreleased.
     */
    @Test
    void aReplyThatFailsToEncodeIsDroppedWholeAndReleasesEveryBuffer() {
        for (boolean extended : new boolean[] {false, true}) {
            TrackingAllocator alloc = new TrackingAllocator().failDirectAfter(1);
            EmbeddedChannel channel = new EmbeddedChannel(new ReplyEncoder());
            channel.config().setAllocator(alloc);
            List<ByteBuf> data = List.of(Unpooled.directBuffer(2).writeShort(1), Unpooled.directBuffer(2).writeShort(2),
                    Unpooled.directBuffer(2).writeShort(3));
            List<Reply.Chunk> chunks = List.of(new Reply.OffsetData(0, data.get(0)), new Reply.OffsetHole(2, 512),
                    new Reply.OffsetData(514, data.get(1)), new Reply.OffsetData(516, data.get(2)));
            Reply reply = extended ? new Reply.Extended(8, 0, chunks) : new Reply.Structured(8, chunks);

            assertThatThrownBy(() -> channel.writeOutbound(reply)).hasRootCauseInstanceOf(OutOfMemoryError.class);

            assertThat((Object) channel.readOutbound()).as("extended=" + extended).isNull();
            assertThat(data).allSatisfy(b -> assertThat(b.refCnt()).isZero());
            assertThat(alloc.unreleased()).isEmpty();
            assertThat(alloc.made).hasSize(1);
        }
    }
}
