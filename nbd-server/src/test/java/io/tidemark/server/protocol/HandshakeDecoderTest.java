package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tidemark.server.protocol.NbdProtocol.Option;
import java.util.List;
import org.junit.jupiter.api.Test;

class HandshakeDecoderTest {

    private static byte[] goData(String name, int... requests) {
        Wire w = Wire.of().u32(name.length()).text(name).u16(requests.length);
        for (int r : requests) {
            w.u16(r);
        }
        return w.toArray();
    }

    private static byte[] metaData(String export, String... queries) {
        Wire w = Wire.of().u32(export.length()).text(export).u32(queries.length);
        for (String q : queries) {
            w.u32(q.length()).text(q);
        }
        return w.toArray();
    }

    @Test
    void decodesClientFlagsAndEveryOptionAtEverySplit() {
        byte[] bytes = Wire.of()
                .u32(3)
                .option(Option.STRUCTURED_REPLY, new byte[0])
                .option(Option.LIST, new byte[0])
                .option(Option.LIST_META_CONTEXT, metaData("disk", "base:", "qemu:dirty"))
                .option(Option.SET_META_CONTEXT, metaData("disk", "base:allocation"))
                .option(Option.INFO, goData("disk", 3, 1))
                .option(99, new byte[] {1, 2, 3})
                .option(Option.GO, goData(""))
                .option(Option.EXPORT_NAME, "disk".getBytes())
                .option(Option.ABORT, new byte[0])
                .toArray();
        List<Object> expected = List.of(
                new ClientFlags(3),
                new OptionRequest.StructuredReply(),
                new OptionRequest.ListExports(),
                new OptionRequest.MetaContext(false, "disk", List.of("base:", "qemu:dirty")),
                new OptionRequest.MetaContext(true, "disk", List.of("base:allocation")),
                new OptionRequest.Info(false, "disk", List.of(3, 1)),
                new OptionRequest.Unsupported(99),
                new OptionRequest.Info(true, "", List.of()),
                new OptionRequest.ExportName("disk"),
                new OptionRequest.Abort());
        SplitFeeder.assertDecodesAtEverySplit(HandshakeDecoder::new, bytes, expected);
    }

    @Test
    void malformedOptionsNameTheFieldAndKeepTheStreamInStep() {
        byte[] bytes = Wire.of()
                .u32(1)
                .option(Option.LIST, new byte[] {0})
                .option(Option.GO, Wire.of().u32(100).text("ab").u16(0).toArray())
                .option(Option.GO, Wire.of().u32(2).text("ab").u16(2).u16(1).toArray())
                .option(Option.SET_META_CONTEXT, Wire.of().bytes(metaData("a", "base:allocation")).u8(7).toArray())
                .option(Option.STRUCTURED_REPLY, new byte[] {1, 2})
                .option(Option.EXPORT_NAME, new byte[] {'a', 0, 'b'})
                .option(Option.LIST, new byte[0])
                .toArray();
        List<Object> out = decodeAll(bytes);
        assertThat(out).hasSize(8);
        assertThat(out.subList(1, 7)).allSatisfy(o -> assertThat(o).isInstanceOf(OptionRequest.Malformed.class));
        assertThat(((OptionRequest.Malformed) out.get(1)).reason()).contains("carries no data");
        assertThat(((OptionRequest.Malformed) out.get(2)).reason()).contains("export name length 100");
        assertThat(((OptionRequest.Malformed) out.get(3)).reason()).contains("2 information requests need 4 bytes");
        assertThat(((OptionRequest.Malformed) out.get(4)).reason()).contains("after the last query");
        assertThat(((OptionRequest.Malformed) out.get(6)).reason()).contains("NUL");
        assertThat(out.get(7)).isEqualTo(new OptionRequest.ListExports());
    }

    @Test
    void oversizedOptionDataIsSkippedWithoutBuffering() {
        int length = ProtocolLimits.MAX_OPTION_DATA + 1;
        byte[] bytes = Wire.of().u32(1).option(Option.GO, new byte[length]).option(Option.ABORT, new byte[0]).toArray();
        SplitFeeder.assertDecodesByteByByte(HandshakeDecoder::new, bytes, List.of(
                new ClientFlags(1), new OptionRequest.Oversized(Option.GO, length), new OptionRequest.Abort()));
    }

    @Test
    void badOptionMagicIsAFramingError() {
        EmbeddedChannel channel = new EmbeddedChannel(new HandshakeDecoder());
        byte[] bytes = Wire.of().u32(1).u64(0x1234).u32(Option.LIST).u32(0).toArray();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer(bytes)))
                .isInstanceOf(ProtocolViolationException.class)
                .hasMessageContaining("bad option magic 0x1234");
    }

    private static List<Object> decodeAll(byte[] bytes) {
        EmbeddedChannel channel = new EmbeddedChannel(new HandshakeDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        return SplitFeeder.drain(channel);
    }
}
