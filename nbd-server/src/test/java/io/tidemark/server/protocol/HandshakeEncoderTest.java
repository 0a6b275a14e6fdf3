package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import org.junit.jupiter.api.Test;

class HandshakeEncoderTest {

    private static byte[] encode(HandshakeReply reply) {
        EmbeddedChannel channel = new EmbeddedChannel(new HandshakeEncoder());
        channel.writeOutbound(reply);
        ByteBuf out = channel.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        return bytes;
    }

    private static Wire optionReplyHeader(int option, int type, int length) {
        return Wire.of().u64(Magic.OPTION_REPLY).u32(option).u32(type).u32(length);
    }

    @Test
    void greeting() {
        assertThat(encode(new HandshakeReply.Greeting(3)))
                .isEqualTo(Wire.of().text("NBDMAGIC").text("IHAVEOPT").u16(3).toArray());
    }

    @Test
    void exportNameAnswerWithAndWithoutZeroes() {
        assertThat(encode(new HandshakeReply.ExportInfo(1L << 40, 0x0103, true)))
                .isEqualTo(Wire.of().u64(1L << 40).u16(0x0103).zeroes(124).toArray());
        assertThat(encode(new HandshakeReply.ExportInfo(512, 1, false)))
                .isEqualTo(Wire.of().u64(512).u16(1).toArray());
    }

    @Test
    void optionReplies() {
        assertThat(encode(new HandshakeReply.Ack(Option.ABORT)))
                .isEqualTo(optionReplyHeader(Option.ABORT, OptionReplyType.ACK, 0).toArray());
        assertThat(encode(new HandshakeReply.Server(Option.LIST, "disk", "a disk")))
                .isEqualTo(optionReplyHeader(Option.LIST, OptionReplyType.SERVER, 14).u32(4).text("disk").text("a disk").toArray());
        assertThat(encode(new HandshakeReply.InfoExport(Option.GO, 4096, 0x0d)))
                .isEqualTo(optionReplyHeader(Option.GO, OptionReplyType.INFO, 12).u16(0).u64(4096).u16(0x0d).toArray());
        assertThat(encode(new HandshakeReply.InfoName(Option.INFO, "d")))
                .isEqualTo(optionReplyHeader(Option.INFO, OptionReplyType.INFO, 3).u16(1).text("d").toArray());
        assertThat(encode(new HandshakeReply.InfoDescription(Option.INFO, "xy")))
                .isEqualTo(optionReplyHeader(Option.INFO, OptionReplyType.INFO, 4).u16(2).text("xy").toArray());
        assertThat(encode(new HandshakeReply.InfoBlockSize(Option.GO, 1, 65536, 1 << 25)))
                .isEqualTo(optionReplyHeader(Option.GO, OptionReplyType.INFO, 14).u16(3).u32(1).u32(65536).u32(1 << 25)
                        .toArray());
        assertThat(encode(new HandshakeReply.MetaContext(Option.SET_META_CONTEXT, 1, "base:allocation")))
                .isEqualTo(optionReplyHeader(Option.SET_META_CONTEXT, OptionReplyType.META_CONTEXT, 19).u32(1)
                        .text("base:allocation").toArray());
        assertThat(encode(new HandshakeReply.Error(42, OptionReplyType.ERR_UNSUP, "no")))
                .isEqualTo(optionReplyHeader(42, OptionReplyType.ERR_UNSUP, 2).text("no").toArray());
    }
}
