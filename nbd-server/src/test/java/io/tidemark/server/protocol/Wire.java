package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/** Builds byte sequences the way a client puts them on the wire. */
public final class Wire {

    private final ByteBuf buf = Unpooled.buffer();

    public Wire u8(int v) {
        buf.writeByte(v);
        return this;
    }

    public Wire u16(int v) {
        buf.writeShort(v);
        return this;
    }

    public Wire u32(long v) {
        buf.writeInt((int) v);
        return this;
    }

    public Wire u64(long v) {
        buf.writeLong(v);
        return this;
    }

    public Wire text(String s) {
        buf.writeCharSequence(s, StandardCharsets.UTF_8);
        return this;
    }

    public Wire bytes(byte[] b) {
        buf.writeBytes(b);
        return this;
    }

    public Wire zeroes(int n) {
        buf.writeZero(n);
        return this;
    }

    /** An option: IHAVEOPT, code, length, data. */
    public Wire option(int code, byte[] data) {
        return u64(NbdProtocol.Magic.IHAVEOPT).u32(code).u32(data.length).bytes(data);
    }

    /** A request header without payload. */
    public Wire request(int flags, int command, long cookie, long offset, long length) {
        return u32(NbdProtocol.Magic.REQUEST).u16(flags).u16(command).u64(cookie).u64(offset).u32(length);
    }

    /** An extended request header (NBD_OPT_EXTENDED_HEADERS) without payload: 64-bit length. */
    public Wire extendedRequest(int flags, int command, long cookie, long offset, long length) {
        return u32(NbdProtocol.Magic.EXTENDED_REQUEST).u16(flags).u16(command).u64(cookie).u64(offset).u64(length);
    }

    public byte[] toArray() {
        return ByteBufUtil.getBytes(buf);
    }

    public static Wire of() {
        return new Wire();
    }
}
