package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.InfoType;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import io.tidemark.server.protocol.Wire;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of NBD, written plainly for tests, over any byte link. Speaks compact headers
 * and, after {@link #extendedHeaders}, extended ones (the clients installed here predate them).
 */
final class NbdTestClient {

    /** Moves bytes to and from the server. */
    interface Link {
        void send(byte[] bytes) throws IOException;

        byte[] read(int length) throws IOException;
    }

    record OptionReplyView(int option, int type, byte[] data) {
        ByteBuf buf() {
            return Unpooled.wrappedBuffer(data);
        }

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** One reply chunk; {@code requestOffset} is the offset an extended header repeats, -1 under a structured one. */
    record ChunkView(int flags, int type, long cookie, byte[] payload, long requestOffset) {
        boolean done() {
            return (flags & ReplyChunk.FLAG_DONE) != 0;
        }

        ByteBuf buf() {
            return Unpooled.wrappedBuffer(payload);
        }
    }

    record SimpleReplyView(int error, long cookie) {
    }

    /** The export as GO described it. */
    record ExportView(long size, int flags) {
    }

    private final Link link;

    NbdTestClient(Link link) {
        this.link = link;
    }

    int greeting() throws IOException {
        ByteBuf g = Unpooled.wrappedBuffer(link.read(18));
        assertThat(g.readLong()).isEqualTo(Magic.NBDMAGIC);
        assertThat(g.readLong()).isEqualTo(Magic.IHAVEOPT);
        return g.readUnsignedShort();
    }

    void clientFlags(int flags) throws IOException {
        link.send(Wire.of().u32(flags).toArray());
    }

    void option(int code, byte[] data) throws IOException {
        link.send(Wire.of().option(code, data).toArray());
    }

    OptionReplyView readOptionReply() throws IOException {
        ByteBuf h = Unpooled.wrappedBuffer(link.read(20));
        assertThat(h.readLong()).as("option reply magic").isEqualTo(Magic.OPTION_REPLY);
        int option = h.readInt();
        int type = h.readInt();
        int length = h.readInt();
        return new OptionReplyView(option, type, link.read(length));
    }

    /** Reads replies up to and including the final ACK or error. */
    List<OptionReplyView> readOptionReplies() throws IOException {
        List<OptionReplyView> replies = new ArrayList<>();
        OptionReplyView r;
        do {
            r = readOptionReply();
            replies.add(r);
        } while (r.type() != OptionReplyType.ACK && !OptionReplyType.isError(r.type()));
        return replies;
    }

    static byte[] infoData(String name, int... requests) {
        Wire w = Wire.of().u32(name.getBytes(StandardCharsets.UTF_8).length).text(name).u16(requests.length);
        for (int r : requests) {
            w.u16(r);
        }
        return w.toArray();
    }

    static byte[] metaContextData(String export, String... queries) {
        Wire w = Wire.of().u32(export.getBytes(StandardCharsets.UTF_8).length).text(export).u32(queries.length);
        for (String q : queries) {
            w.u32(q.length()).text(q);
        }
        return w.toArray();
    }

    /** Greeting, flags, optionally structured replies and base:allocation, then GO. */
    ExportView handshake(String export, boolean structured, boolean blockStatus) throws IOException {
        greeting();
        clientFlags(3);
        return selectExport(export, structured, blockStatus);
    }

    /** The options part of {@link #handshake}, for a client past the greeting. */
    ExportView selectExport(String export, boolean structured, boolean blockStatus) throws IOException {
        if (structured) {
            option(Option.STRUCTURED_REPLY, new byte[0]);
            assertThat(readOptionReply().type()).isEqualTo(OptionReplyType.ACK);
        }
        if (blockStatus) {
            option(Option.SET_META_CONTEXT, metaContextData(export, "base:allocation"));
            assertThat(readOptionReplies()).extracting(OptionReplyView::type)
                    .containsExactly(OptionReplyType.META_CONTEXT, OptionReplyType.ACK);
        }
        option(Option.GO, infoData(export, InfoType.BLOCK_SIZE));
        ExportView view = null;
        for (OptionReplyView r : readOptionReplies()) {
            assertThat(r.type()).as("GO reply %s", OptionReplyType.name(r.type())).isIn(OptionReplyType.INFO,
                    OptionReplyType.ACK);
            if (r.type() == OptionReplyType.INFO && r.buf().getShort(0) == InfoType.EXPORT) {
                view = new ExportView(r.buf().getLong(2), r.buf().getUnsignedShort(10));
            }
        }
        return view;
    }

    /** Sends NBD_OPT_EXTENDED_HEADERS and returns the server's reply type. */
    int extendedHeaders() throws IOException {
        option(Option.EXTENDED_HEADERS, new byte[0]);
        return readOptionReply().type();
    }

    /** An extended request without payload; {@code length} is the 64-bit effect length. */
    void extendedRequest(int flags, int command, long cookie, long offset, long length) throws IOException {
        link.send(Wire.of().extendedRequest(flags, command, cookie, offset, length).toArray());
    }

    /** An extended request carrying {@code payload}, flagged NBD_CMD_FLAG_PAYLOAD_LEN. */
    void extendedRequestWithPayload(int flags, int command, long cookie, long offset, byte[] payload)
            throws IOException {
        link.send(Wire.of().extendedRequest(flags | CommandFlags.PAYLOAD_LEN, command, cookie, offset, payload.length)
                .bytes(payload).toArray());
    }

    ChunkView readExtendedChunk() throws IOException {
        return readChunk(true);
    }

    /** Reads extended chunks until one is flagged DONE; all must carry {@code cookie} and {@code offset}. */
    List<ChunkView> readExtendedReply(long cookie, long offset) throws IOException {
        return readUntilDone(this::readExtendedChunk, cookie, offset);
    }

    private interface ChunkReader {
        ChunkView read() throws IOException;
    }

    private static List<ChunkView> readUntilDone(ChunkReader reader, long cookie, long requestOffset)
            throws IOException {
        List<ChunkView> chunks = new ArrayList<>();
        ChunkView c;
        do {
            c = reader.read();
            assertThat(c.cookie()).isEqualTo(cookie);
            assertThat(c.requestOffset()).as("offset repeated from the request").isEqualTo(requestOffset);
            chunks.add(c);
        } while (!c.done());
        return chunks;
    }

    void request(int flags, int command, long cookie, long offset, long length) throws IOException {
        link.send(Wire.of().request(flags, command, cookie, offset, length).toArray());
    }

    void write(int flags, long cookie, long offset, byte[] data) throws IOException {
        link.send(Wire.of().request(flags, 1, cookie, offset, data.length).bytes(data).toArray());
    }

    SimpleReplyView readSimpleReply() throws IOException {
        ByteBuf h = Unpooled.wrappedBuffer(link.read(16));
        assertThat(h.readInt()).as("simple reply magic").isEqualTo(Magic.SIMPLE_REPLY);
        return new SimpleReplyView(h.readInt(), h.readLong());
    }

    byte[] readData(int length) throws IOException {
        return link.read(length);
    }

    ChunkView readChunk() throws IOException {
        return readChunk(false);
    }

    /** One chunk under a structured (20-byte) or extended (32-byte) header. */
    private ChunkView readChunk(boolean extended) throws IOException {
        ByteBuf h = Unpooled.wrappedBuffer(link.read(extended ? 32 : 20));
        assertThat(h.readInt()).as("reply chunk magic").isEqualTo(extended ? Magic.EXTENDED_REPLY
                : Magic.STRUCTURED_REPLY);
        int flags = h.readUnsignedShort();
        int type = h.readUnsignedShort();
        long cookie = h.readLong();
        long offset = extended ? h.readLong() : -1;
        long length = extended ? h.readLong() : h.readUnsignedInt();
        assertThat(length).as("reply chunk payload length").isBetween(0L, 64L << 20);
        return new ChunkView(flags, type, cookie, link.read((int) length), offset);
    }

    /** Reads chunks until one is flagged DONE; all must carry {@code cookie}. */
    List<ChunkView> readStructuredReply(long cookie) throws IOException {
        return readUntilDone(this::readChunk, cookie, -1);
    }

    /** Reassembles a structured READ reply into bytes, checking chunks stay inside the request. */
    static byte[] reassemble(List<ChunkView> chunks, long offset, int length) {
        byte[] out = new byte[length];
        boolean[] covered = new boolean[length];
        for (ChunkView c : chunks) {
            ByteBuf p = c.buf();
            switch (c.type()) {
                case ReplyChunk.OFFSET_DATA -> {
                    int at = (int) (p.readLong() - offset);
                    int n = p.readableBytes();
                    p.readBytes(out, at, n);
                    java.util.Arrays.fill(covered, at, at + n, true);
                }
                case ReplyChunk.OFFSET_HOLE -> {
                    int at = (int) (p.readLong() - offset);
                    int n = p.readInt();
                    java.util.Arrays.fill(covered, at, at + n, true);
                }
                case ReplyChunk.NONE -> {
                }
                default -> throw new AssertionError("unexpected chunk " + ReplyChunk.name(c.type()));
            }
        }
        for (boolean b : covered) {
            assertThat(b).as("every byte covered").isTrue();
        }
        return out;
    }
}
