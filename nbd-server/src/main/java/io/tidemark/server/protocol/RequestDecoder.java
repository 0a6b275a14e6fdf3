package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import java.util.List;

/**
 * Turns transmission-phase bytes into {@link Request} records. A WRITE's data rides along in
 * the request (see {@link #decodePayload}); data longer than {@link ProtocolLimits#MAX_PAYLOAD} is skipped as it arrives
 * (so the stream stays in step) and the request is passed on without payload for the handler
 * to refuse. A wrong request magic is a framing error.
 *
 * <p>Once NBD_OPT_EXTENDED_HEADERS is negotiated every header is the 32-byte extended one, whose
 * 64-bit length is a payload length when NBD_CMD_FLAG_PAYLOAD_LEN is set and an effect length
 * otherwise. A payload over {@link ProtocolLimits#MAX_PAYLOAD} is then a framing error (the
 * spec asks for a hard disconnect); the payload of any command but WRITE is skipped, so the
 * handler can refuse the flag with the stream still in step.
 */
public final class RequestDecoder extends ByteToMessageDecoder {

    /**
     * A WRITE payload up to this long gets its whole buffer as soon as its header arrives: growing
     * a buffer while the data comes in copies it again at every doubling, which halved the
     * throughput of 1 MiB writes. Longer payloads start at this size and grow with the bytes
     * received, so a header alone never buys more than this (one payload per connection is gathered
     * at a time).
     */
    static final int UPFRONT_GATHER_CAPACITY = 2 * 1024 * 1024;

    /**
     * Payload still to come below this arrives in one ordinary read together with the next
     * header; reading it into the payload separately would cost a second read for the header.
     */
    static final int MIN_LANDING = 64 * 1024;

    /**
     * Payload bytes that arrived with their header, at least this many, stay in the receive
     * buffer as the payload's first part instead of being copied to the payload buffer (the copy
     * was the largest cost of ours on a WRITE's path); fewer are copied, as a second write call
     * for them would cost more than the copy. The cut falls on a multiple of the export's preferred
     * block size, so neither part makes the device read-modify-write (or a thin image allocate a
     * cluster for part of it): bytes past the cut are copied. Only payloads of at least
     * {@link #MIN_SLICED_PAYLOAD} are cut: measured on a raw file, 1 MiB writes took 5% less CPU
     * cut, while nbdcopy's 256 KiB writes took no less (the second write call eats the saving).
     */
    static final int MIN_HEAD_SLICE = 16 * 1024;

    /** The shortest WRITE payload whose first bytes are kept where they arrived (see {@link #MIN_HEAD_SLICE}). */
    static final int MIN_SLICED_PAYLOAD = 512 * 1024;

    private enum State { HEADER, PAYLOAD, SKIP_PAYLOAD, BROKEN }

    private final boolean extendedHeaders;
    /** Where the payload may be cut into parts: a power of two (see {@link #MIN_HEAD_SLICE}). */
    private final int partAlignment;
    private State state = State.HEADER;
    private int flags;
    private int command;
    private long cookie;
    private long offset;
    private long length;
    private long toSkip;
    /** A WRITE payload being gathered, or null; after {@link #head} when that is set. */
    private ByteBuf payload;
    /** The first part of the payload being gathered, a slice of the buffer it arrived in, or null. */
    private ByteBuf head;
    /** The slice of {@link #payload} handed to the socket for its next read, or null. */
    private ByteBuf landing;
    private PayloadLandingAllocator landingAllocator;

    /** A decoder of compact (28-byte) request headers. */
    public RequestDecoder() {
        this(false);
    }

    /** @param extendedHeaders whether NBD_OPT_EXTENDED_HEADERS was negotiated: 32-byte headers, 64-bit lengths */
    public RequestDecoder(boolean extendedHeaders) {
        this(extendedHeaders, 1);
    }

    /**
     * @param extendedHeaders whether NBD_OPT_EXTENDED_HEADERS was negotiated: 32-byte headers, 64-bit lengths
     * @param partAlignment   the export's preferred block size: a WRITE payload passed on in parts is cut
     *                        only where the device offset is a multiple of it
     */
    public RequestDecoder(boolean extendedHeaders, int partAlignment) {
        if (partAlignment <= 0 || Integer.bitCount(partAlignment) != 1) {
            throw new IllegalArgumentException("part alignment " + partAlignment + " is not a power of two");
        }
        this.extendedHeaders = extendedHeaders;
        this.partAlignment = partAlignment;
    }

    /**
     * Lets the connection's socket read payload bytes straight into the payload buffer, unless TLS
     * sits in front (the socket's bytes are then ciphertext, not payload).
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().config().getRecvByteBufAllocator() instanceof PayloadLandingAllocator allocator
                && ctx.pipeline().get(SslHandler.class) == null) {
            landingAllocator = allocator;
            allocator.attach(this);
        }
    }

    /**
     * The free part of the payload being gathered, for the socket's next read, or null when there
     * is none worth a read of its own or the decoder still holds unread bytes (those come first).
     * The slice holds its own reference; the bytes it receives come back through {@link #decode}
     * as that same slice.
     */
    ByteBuf payloadLanding() {
        if (state != State.PAYLOAD || payload == null || internalBuffer().isReadable()) {
            return null;
        }
        int free = payload.capacity() - payload.writerIndex();
        if (free < MIN_LANDING) {
            return null;
        }
        landing = payload.retainedSlice(payload.writerIndex(), free).clear();
        return landing;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> {
                if (extendedHeaders) {
                    decodeExtendedHeader(ctx, in, out);
                } else {
                    decodeHeader(ctx, in, out);
                }
            }
            case PAYLOAD -> decodePayload(ctx, in, out);
            case SKIP_PAYLOAD -> {
                int skipped = (int) Math.min(in.readableBytes(), toSkip);
                in.skipBytes(skipped);
                toSkip -= skipped;
                if (toSkip == 0) {
                    out.add(new Request(flags, command, cookie, offset, length, null));
                    state = State.HEADER;
                }
            }
            // after a framing error nothing that follows is a request, not even when the channel closes
            case BROKEN -> in.skipBytes(in.readableBytes());
        }
    }

    /**
     * A payload already buffered in full is passed on as a slice, without a copy. One still
     * arriving is gathered into its own buffer (see {@link #UPFRONT_GATHER_CAPACITY}), so the
     * decoder's buffer never grows to hold a large WRITE; what the socket read straight into that
     * buffer (see {@link #payloadLanding}) is only counted, not copied, and so are the bytes that
     * came with the header (see {@link #MIN_HEAD_SLICE}): the payload is then passed on as a
     * composite of that slice and the buffer.
     */
    private void decodePayload(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in == landing) {
            // the socket read into the payload itself: the bytes are in place already
            landing = null;
            int landed = in.readableBytes();
            in.skipBytes(landed);
            payload.writerIndex(payload.writerIndex() + landed);
        } else if (payload == null && in.readableBytes() >= length) {
            emit(in.readRetainedSlice((int) length), out);
            return;
        }
        if (payload == null) {
            long cut = (offset + in.readableBytes()) & -(long) partAlignment;
            if (length >= MIN_SLICED_PAYLOAD && cut - offset >= MIN_HEAD_SLICE) {
                head = in.readRetainedSlice((int) (cut - offset));
            }
            int rest = (int) length - (head == null ? 0 : head.readableBytes());
            // 28 header bytes must not buy 32 MiB: beyond the upfront size, grow with what arrives
            int initial = Math.min(rest, Math.max(in.readableBytes(), UPFRONT_GATHER_CAPACITY));
            payload = ctx.alloc().directBuffer(initial, rest);
        }
        if (in.isReadable()) {
            payload.writeBytes(in, Math.min(in.readableBytes(), payload.maxWritableBytes()));
        }
        if (payload.maxWritableBytes() == 0) {
            ByteBuf complete = head == null ? payload
                    : ctx.alloc().compositeDirectBuffer(2).addComponents(true, head, payload);
            payload = null;
            head = null;
            emit(complete, out);
        }
    }

    private void emit(ByteBuf data, List<Object> out) {
        out.add(new Request(flags, command, cookie, offset, length, data));
        state = State.HEADER;
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (landingAllocator != null) {
            landingAllocator.detach(this);
            landingAllocator = null;
        }
        landing = null; // the read it went to releases it
        if (payload != null) {
            payload.release();
            payload = null;
        }
        if (head != null) {
            head.release();
            head = null;
        }
    }

    private void decodeHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < ProtocolLimits.REQUEST_HEADER_LENGTH) {
            return;
        }
        int magic = in.readInt();
        if (magic != Magic.REQUEST) {
            throw badMagic(magic, Magic.REQUEST, magic == Magic.EXTENDED_REQUEST
                    ? ": an extended header, but NBD_OPT_EXTENDED_HEADERS was not negotiated" : "");
        }
        flags = in.readUnsignedShort();
        command = in.readUnsignedShort();
        cookie = in.readLong();
        offset = in.readLong();
        length = in.readUnsignedInt();
        if (command != Command.WRITE) {
            out.add(new Request(flags, command, cookie, offset, length, null));
        } else if (length <= ProtocolLimits.MAX_PAYLOAD) {
            state = State.PAYLOAD;
            decodePayload(ctx, in, out);
        } else {
            toSkip = length;
            state = State.SKIP_PAYLOAD;
        }
    }

    /**
     * The magic is checked as soon as it arrives: a client that sends a 28-byte compact request
     * would otherwise wait forever for its reply while we wait for 4 more header bytes.
     */
    private void decodeExtendedHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < Integer.BYTES) {
            return;
        }
        int magic = in.getInt(in.readerIndex());
        if (magic != Magic.EXTENDED_REQUEST) {
            throw badMagic(magic, Magic.EXTENDED_REQUEST, magic == Magic.REQUEST
                    ? ": a compact header, but NBD_OPT_EXTENDED_HEADERS was negotiated" : "");
        }
        if (in.readableBytes() < ProtocolLimits.EXTENDED_REQUEST_HEADER_LENGTH) {
            return;
        }
        in.skipBytes(Integer.BYTES);
        flags = in.readUnsignedShort();
        command = in.readUnsignedShort();
        cookie = in.readLong();
        offset = in.readLong();
        length = in.readLong();
        if ((flags & CommandFlags.PAYLOAD_LEN) == 0) {
            out.add(new Request(flags, command, cookie, offset, length, null));
        } else if (Long.compareUnsigned(length, ProtocolLimits.MAX_PAYLOAD) > 0) {
            state = State.BROKEN;
            throw new ProtocolViolationException(Command.name(command) + " payload of " + Long.toUnsignedString(length)
                    + " bytes exceeds the maximum payload " + ProtocolLimits.MAX_PAYLOAD);
        } else if (command == Command.WRITE) {
            state = State.PAYLOAD;
            decodePayload(ctx, in, out);
        } else if (length == 0) {
            out.add(new Request(flags, command, cookie, offset, length, null)); // nothing to skip
        } else {
            toSkip = length;
            state = State.SKIP_PAYLOAD;
        }
    }

    private ProtocolViolationException badMagic(int magic, int expected, String hint) {
        state = State.BROKEN;
        return new ProtocolViolationException(String.format("bad request magic 0x%08x (expected 0x%08x)%s", magic,
                expected, hint));
    }
}
