package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

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
}
