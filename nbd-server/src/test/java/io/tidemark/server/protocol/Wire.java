package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/** Builds byte sequences the way a client puts them on the wire. */
final class Wire {

    private final ByteBuf buf = Unpooled.buffer();

    Wire u8(int v) {
        buf.writeByte(v);
        return this;
    }

    Wire u16(int v) {
        buf.writeShort(v);
        return this;
    }

    Wire u32(long v) {
        buf.writeInt((int) v);
        return this;
    }

    Wire u64(long v) {
        buf.writeLong(v);
        return this;
    }

    Wire text(String s) {
        buf.writeCharSequence(s, StandardCharsets.UTF_8);
        return this;
    }

    Wire bytes(byte[] b) {
        buf.writeBytes(b);
        return this;
    }

    Wire zeroes(int n) {
        buf.writeZero(n);
        return this;
    }

    /** An option: IHAVEOPT, code, length, data. */
    Wire option(int code, byte[] data) {
        return u64(NbdProtocol.Magic.IHAVEOPT).u32(code).u32(data.length).bytes(data);
    }

    /** A request header without payload. */
    Wire request(int flags, int command, long cookie, long offset, long length) {
        return u32(NbdProtocol.Magic.REQUEST).u16(flags).u16(command).u64(cookie).u64(offset).u32(length);
    }

    byte[] toArray() {
        return ByteBufUtil.getBytes(buf);
    }

    static Wire of() {
        return new Wire();
    }
}
