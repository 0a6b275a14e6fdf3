package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.tidemark.server.protocol.HandshakeReply.OptionReply;
import io.tidemark.server.protocol.NbdProtocol.InfoType;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import java.nio.charset.StandardCharsets;

/** Writes {@link HandshakeReply} records as bytes. */
public final class HandshakeEncoder extends MessageToByteEncoder<HandshakeReply> {

    /** Reserved zeroes after the export information of NBD_OPT_EXPORT_NAME. */
    private static final int EXPORT_NAME_PADDING = 124;

    public HandshakeEncoder() {
        super(HandshakeReply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, HandshakeReply msg, ByteBuf out) {
        switch (msg) {
            case HandshakeReply.Greeting g -> {
                out.writeLong(Magic.NBDMAGIC);
                out.writeLong(Magic.IHAVEOPT);
                out.writeShort(g.handshakeFlags());
            }
            case HandshakeReply.ExportInfo e -> {
                out.writeLong(e.size());
                out.writeShort(e.transmissionFlags());
                if (e.padWithZeroes()) {
                    out.writeZero(EXPORT_NAME_PADDING);
                }
            }
            case OptionReply r -> encodeOptionReply(r, out);
        }
    }

    private static void encodeOptionReply(OptionReply reply, ByteBuf out) {
        out.writeLong(Magic.OPTION_REPLY);
        out.writeInt(reply.option());
        int typeIndex = out.writerIndex();
        out.writeInt(0);
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        int start = out.writerIndex();
        int type = switch (reply) {
            case HandshakeReply.Ack a -> OptionReplyType.ACK;
            case HandshakeReply.Server s -> {
                out.writeInt(ByteBufUtil.utf8Bytes(s.name()));
                out.writeCharSequence(s.name(), StandardCharsets.UTF_8);
                out.writeCharSequence(s.description(), StandardCharsets.UTF_8);
                yield OptionReplyType.SERVER;
            }
            case HandshakeReply.InfoExport i -> {
                out.writeShort(InfoType.EXPORT);
                out.writeLong(i.size());
                out.writeShort(i.transmissionFlags());
                yield OptionReplyType.INFO;
            }
            case HandshakeReply.InfoName n -> {
                out.writeShort(InfoType.NAME);
                out.writeCharSequence(n.name(), StandardCharsets.UTF_8);
                yield OptionReplyType.INFO;
            }
            case HandshakeReply.InfoDescription d -> {
                out.writeShort(InfoType.DESCRIPTION);
                out.writeCharSequence(d.description(), StandardCharsets.UTF_8);
                yield OptionReplyType.INFO;
            }
            case HandshakeReply.InfoBlockSize b -> {
                out.writeShort(InfoType.BLOCK_SIZE);
                out.writeInt(b.minimum());
                out.writeInt(b.preferred());
                out.writeInt(b.maximum());
                yield OptionReplyType.INFO;
            }
            case HandshakeReply.MetaContext m -> {
                out.writeInt(m.contextId());
                out.writeCharSequence(m.name(), StandardCharsets.UTF_8);
                yield OptionReplyType.META_CONTEXT;
            }
            case HandshakeReply.Error e -> {
                out.writeCharSequence(e.message(), StandardCharsets.UTF_8);
                yield e.type();
            }
        };
        out.setInt(typeIndex, type);
        out.setInt(lengthIndex, out.writerIndex() - start);
    }
}
