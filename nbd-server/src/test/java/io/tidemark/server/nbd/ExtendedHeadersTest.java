package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.tidemark.image.thin.ThinImage;
import io.tidemark.server.nbd.NbdTestClient.ChunkView;
import io.tidemark.server.nbd.NbdTestClient.ExportView;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.Error;
import io.tidemark.server.protocol.NbdProtocol.InfoType;
import io.tidemark.server.protocol.NbdProtocol.MetaContext;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;
import io.tidemark.server.protocol.ProtocolLimits;
import io.tidemark.server.protocol.Request;
import io.tidemark.server.protocol.Wire;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD_OPT_EXTENDED_HEADERS end to end: our own client ({@link NbdTestClient}; the installed
 * libnbd and qemu predate the extension) over a real TCP socket against a running server that
 * exports a 16 GiB thin image, so that effect lengths and extents beyond 32 bits are real.
 */
class ExtendedHeadersTest {

    private static final long GIB = 1L << 30;
    private static final long SIZE = 16 * GIB;
    private static final int CLUSTER = 64 * 1024;
    private static final int HOLE = MetaContext.STATE_HOLE | MetaContext.STATE_ZERO;

    @TempDir
    Path dir;

    private NbdServer server;
    private SocketLink link;

    /** A descriptor of a BLOCK_STATUS_EXT chunk. */
    private record Extent(long length, long status) {
    }

    @BeforeEach
    void start() throws Exception {
        ThinImage image = ThinImage.create(dir.resolve("big.img"), SIZE, CLUSTER, false);
        server = NbdServer.start(new ExportRegistry(List.of(new Export("big", "", image))),
                List.of(new ListenAddress.Tcp("127.0.0.1", 0)), ConnectionLimits.DEFAULT, 2);
    }

    @AfterEach
    void stop() throws IOException {
        if (link != null) {
            link.close();
        }
        server.close();
    }

    private NbdTestClient connect() throws IOException {
        link = SocketLink.tcp("127.0.0.1", ((ListenAddress.Tcp) server.addresses().getFirst()).port());
        NbdTestClient client = new NbdTestClient(link);
        client.greeting();
        client.clientFlags(3);
        return client;
    }

    /** Extended headers, base:allocation, GO. */
    private NbdTestClient connectExtended() throws IOException {
        NbdTestClient client = connect();
        assertThat(client.extendedHeaders()).isEqualTo(OptionReplyType.ACK);
        ExportView view = client.selectExport("big", false, true);
        assertThat(view.size()).isEqualTo(SIZE);
        assertThat(view.flags() & TransmissionFlags.SEND_DF).as("DF comes with extended headers").isNotZero();
        assertThat(view.flags() & TransmissionFlags.BLOCK_STATUS_PAYLOAD).as("payload form not offered").isZero();
        return client;
    }

    private static void assertSuccess(List<ChunkView> reply) {
        assertThat(reply).extracting(ChunkView::type).containsExactly(ReplyChunk.NONE);
    }

    /** Sends a request without payload and returns its extended reply. */
    private static List<ChunkView> call(NbdTestClient client, int flags, int command, long cookie, long offset,
            long length) throws IOException {
        client.extendedRequest(flags, command, cookie, offset, length);
        return client.readExtendedReply(cookie, offset);
    }

    private static int errorOf(List<ChunkView> reply) {
        assertThat(reply).hasSize(1);
        assertThat(reply.getFirst().type()).isEqualTo(ReplyChunk.ERROR);
        return reply.getFirst().buf().getInt(0);
    }

    private static String messageOf(List<ChunkView> reply) {
        ByteBuf p = reply.getFirst().buf();
        p.skipBytes(Integer.BYTES);
        return p.readCharSequence(p.readUnsignedShort(), StandardCharsets.UTF_8).toString();
    }

    private static List<Extent> blockStatus(NbdTestClient client, int flags, long cookie, long offset, long length)
            throws IOException {
        List<ChunkView> reply = call(client, flags, Command.BLOCK_STATUS, cookie, offset, length);
        assertThat(reply).extracting(ChunkView::type).containsExactly(ReplyChunk.BLOCK_STATUS_EXT);
        ByteBuf p = reply.getFirst().buf();
        assertThat(p.readInt()).as("context id").isEqualTo(HandshakeHandler.BASE_ALLOCATION_ID);
        int count = p.readInt();
        assertThat(p.readableBytes()).as("descriptor count %d matches the length", count).isEqualTo(16 * count);
        List<Extent> extents = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            extents.add(new Extent(p.readLong(), p.readLong()));
        }
        return extents;
    }

    private static byte[] read(NbdTestClient client, long cookie, long offset, int length) throws IOException {
        client.extendedRequest(0, Command.READ, cookie, offset, length);
        return NbdTestClient.reassemble(client.readExtendedReply(cookie, offset), offset, length);
    }

    @Test
    void writesReadsAndSixtyFourBitZeroTrimAndBlockStatusBeyondFourGibibytes() throws Exception {
        NbdTestClient client = connectExtended();
        long seed = System.nanoTime();
        Random random = new Random(seed);
        byte[] data = new byte[CLUSTER];
        random.nextBytes(data);
        for (long at : new long[] {0, 5 * GIB, 10 * GIB}) {
            client.extendedRequestWithPayload(CommandFlags.FUA, Command.WRITE, at + 1, at, data);
            assertSuccess(client.readExtendedReply(at + 1, at));
        }
        assertThat(read(client, 2, 5 * GIB, CLUSTER)).as("seed %d", seed).isEqualTo(data);

        // one request for the whole 16 GiB: extents longer than 32 bits can express
        assertThat(blockStatus(client, 0, 3, 0, SIZE)).containsExactly(
                new Extent(CLUSTER, 0), new Extent(5 * GIB - CLUSTER, HOLE),
                new Extent(CLUSTER, 0), new Extent(5 * GIB - CLUSTER, HOLE),
                new Extent(CLUSTER, 0), new Extent(6 * GIB - CLUSTER, HOLE));
        assertThat(blockStatus(client, CommandFlags.REQ_ONE, 4, CLUSTER, 7 * GIB))
                .containsExactly(new Extent(5 * GIB - CLUSTER, HOLE));

        // 6 GiB of zeroes in one request punch the first two clusters; 8 GiB of trim the last
        assertSuccess(call(client, 0, Command.WRITE_ZEROES, 5, 0, 6 * GIB));
        assertThat(blockStatus(client, 0, 6, 0, SIZE)).containsExactly(
                new Extent(10 * GIB, HOLE), new Extent(CLUSTER, 0), new Extent(6 * GIB - CLUSTER, HOLE));
        assertSuccess(call(client, CommandFlags.FUA, Command.TRIM, 7, 8 * GIB, 8 * GIB));
        assertThat(blockStatus(client, 0, 8, 0, SIZE)).containsExactly(new Extent(SIZE, HOLE));
        assertThat(read(client, 9, 5 * GIB, CLUSTER)).containsOnly(0);

        // NO_HOLE zeroes stay allocated as zeroes, across the 4 GiB line
        assertSuccess(call(client, CommandFlags.NO_HOLE, Command.WRITE_ZEROES, 10, 4 * GIB - CLUSTER, 2 * CLUSTER));
        assertThat(blockStatus(client, 0, 11, 4 * GIB - CLUSTER, 12 * GIB + CLUSTER)).containsExactly(
                new Extent(2 * CLUSTER, MetaContext.STATE_ZERO), new Extent(12 * GIB - CLUSTER, HOLE));

        assertSuccess(call(client, 0, Command.CACHE, 12, 0, 8 * GIB));
        assertSuccess(call(client, 0, Command.FLUSH, 13, 0, 0));
        client.extendedRequest(0, Command.DISC, 14, 0, 0);
        assertThat(link.closedByServer()).isTrue();
    }

    @Test
    void pipelinedRepliesEachRepeatTheirOwnRequestsOffset() throws Exception {
        NbdTestClient client = connectExtended();
        int count = 24;
        long stride = GIB / 2 + CLUSTER; // the offsets cross several 4 GiB lines
        for (int i = 0; i < count; i++) {
            client.extendedRequestWithPayload(0, Command.WRITE, i, i * stride, new byte[] {(byte) i, (byte) ~i});
        }
        for (ChunkView c : readInAnyOrder(client, count, stride)) {
            assertThat(c.type()).isEqualTo(ReplyChunk.NONE);
        }
        // reads only once every write is answered: requests in flight together may run in any order
        for (int i = 0; i < count; i++) {
            client.extendedRequest(CommandFlags.DF, Command.READ, i, i * stride, 2);
        }
        List<ChunkView> reads = readInAnyOrder(client, count, stride);
        for (int i = 0; i < count; i++) {
            assertThat(NbdTestClient.reassemble(List.of(reads.get(i)), i * stride, 2)).containsExactly((byte) i,
                    (byte) ~i);
        }
    }

    /** Reads {@code count} one-chunk replies, cookies 0 to count - 1 in any order, indexed by cookie. */
    private static List<ChunkView> readInAnyOrder(NbdTestClient client, int count, long stride) throws IOException {
        ChunkView[] byCookie = new ChunkView[count];
        for (int n = 0; n < count; n++) {
            ChunkView c = client.readExtendedChunk();
            assertThat(c.done()).isTrue();
            int i = (int) c.cookie();
            assertThat(byCookie[i]).as("one reply for cookie %d", i).isNull();
            assertThat(c.requestOffset()).as("offset of cookie %d", i).isEqualTo(i * stride);
            byCookie[i] = c;
        }
        return List.of(byCookie);
    }

    @Test
    void errorsAreExtendedErrorChunksAndPayloadsTheCommandDoesNotTakeAreConsumed() throws Exception {
        NbdTestClient client = connectExtended();
        assertThat(errorOf(call(client, 0, Command.READ, 1, SIZE, 4096))).isEqualTo(Error.EINVAL);
        assertThat(errorOf(call(client, 0, Command.READ, 2, 0, 64 << 20))).isEqualTo(Error.EOVERFLOW);
        List<ChunkView> pastEnd = call(client, 0, Command.WRITE_ZEROES, 3, GIB, SIZE);
        assertThat(errorOf(pastEnd)).isEqualTo(Error.ENOSPC);
        assertThat(messageOf(pastEnd)).contains("17179869184 bytes at offset 1073741824");
        // all 64 bits set: unsigned, so far past the end, not a negative length
        assertThat(errorOf(call(client, 0, Command.TRIM, 4, 0, -1L))).isEqualTo(Error.EINVAL);
        assertThat(errorOf(call(client, 0, Command.WRITE, 5, 0, 4096))).as("WRITE without PAYLOAD_LEN")
                .isEqualTo(Error.EINVAL);
        assertThat(errorOf(call(client, 0, Command.BLOCK_STATUS, 6, 0, 0))).isEqualTo(Error.EINVAL);
        assertThat(errorOf(call(client, 0, 0x55, 7, 0, 0))).isEqualTo(Error.EINVAL);

        // BLOCK_STATUS's payload form (effect length, context ids) is not offered: EINVAL, payload consumed
        client.extendedRequestWithPayload(0, Command.BLOCK_STATUS, 8, 0,
                Wire.of().u64(SIZE).u32(HandshakeHandler.BASE_ALLOCATION_ID).toArray());
        List<ChunkView> refused = client.readExtendedReply(8, 0);
        assertThat(errorOf(refused)).isEqualTo(Error.EINVAL);
        assertThat(messageOf(refused)).contains("PAYLOAD_LEN");
        client.extendedRequestWithPayload(0, Command.READ, 9, 0, new byte[100]);
        assertThat(errorOf(client.readExtendedReply(9, 0))).isEqualTo(Error.EINVAL);

        // the stream is still in step
        assertThat(blockStatus(client, 0, 10, 0, SIZE)).containsExactly(new Extent(SIZE, HOLE));
    }

    @Test
    void compactRequestAfterExtendedHeadersClosesTheConnection() throws Exception {
        NbdTestClient client = connectExtended();
        client.request(0, Command.READ, 1, 0, 512);
        assertThat(link.closedByServer()).as("closed without a reply").isTrue();
    }

    @Test
    void extendedRequestWithoutNegotiationClosesTheConnection() throws Exception {
        NbdTestClient client = connect();
        client.selectExport("big", true, true);
        client.extendedRequest(0, Command.READ, 1, 0, 512);
        assertThat(link.closedByServer()).as("closed without a reply").isTrue();
    }

    @Test
    void payloadOverTheMaximumClosesTheConnection() throws Exception {
        NbdTestClient client = connectExtended();
        client.extendedRequest(CommandFlags.PAYLOAD_LEN, Command.WRITE, 1, 0, ProtocolLimits.MAX_PAYLOAD + 1L);
        assertThat(link.closedByServer()).isTrue();
    }

    @Test
    void anOptionAfterGoIsNotARequestAndClosesTheConnection() throws Exception {
        NbdTestClient client = connectExtended();
        client.option(Option.LIST, new byte[0]);
        client.option(Option.LIST, new byte[0]); // 32 bytes in all: one whole (bad) header
        assertThat(link.closedByServer()).isTrue();
    }

    @Test
    void extendedHeadersTakePrecedenceOverStructuredReplies() throws Exception {
        NbdTestClient client = connect();
        client.option(Option.STRUCTURED_REPLY, new byte[0]);
        assertThat(client.readOptionReply().type()).as("structured first is allowed").isEqualTo(OptionReplyType.ACK);
        assertThat(client.extendedHeaders()).isEqualTo(OptionReplyType.ACK);
        client.option(Option.STRUCTURED_REPLY, new byte[0]);
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ERR_EXT_HEADER_REQD);
        assertThat(client.extendedHeaders()).as("twice").isEqualTo(OptionReplyType.ERR_INVALID);
        client.option(Option.EXTENDED_HEADERS, new byte[] {1});
        assertThat(client.readOptionReply().type()).as("with data").isEqualTo(OptionReplyType.ERR_INVALID);
        client.option(Option.GO, NbdTestClient.infoData("big", InfoType.BLOCK_SIZE));
        assertThat(client.readOptionReplies().getLast().type()).isEqualTo(OptionReplyType.ACK);
        assertSuccess(call(client, 0, Command.FLUSH, 1, 0, 0));
        assertThat(errorOf(call(client, 0, Command.BLOCK_STATUS, 2, 0, 512))).as("no context selected")
                .isEqualTo(Error.EINVAL);
    }

    @Test
    void metaContextsNeedNoStructuredRepliesWithExtendedHeaders() throws Exception {
        NbdTestClient client = connect();
        client.option(Option.SET_META_CONTEXT, NbdTestClient.metaContextData("big", MetaContext.BASE_ALLOCATION));
        assertThat(client.readOptionReply().type()).as("neither negotiated yet").isEqualTo(OptionReplyType.ERR_INVALID);
        assertThat(client.extendedHeaders()).isEqualTo(OptionReplyType.ACK);
        client.option(Option.LIST_META_CONTEXT, NbdTestClient.metaContextData("big"));
        assertThat(client.readOptionReplies()).extracting(NbdTestClient.OptionReplyView::type)
                .containsExactly(OptionReplyType.META_CONTEXT, OptionReplyType.ACK);
    }

    @Test
    void exportNameAfterExtendedHeadersClosesTheConnection() throws Exception {
        NbdTestClient client = connect();
        assertThat(client.extendedHeaders()).isEqualTo(OptionReplyType.ACK);
        client.option(Option.EXPORT_NAME, "big".getBytes(StandardCharsets.UTF_8));
        assertThat(link.closedByServer()).as("closed, no export info").isTrue();
    }

    @Test
    void aReadsCostInFlightReadsItsLengthUnsigned() {
        assertThat(TransmissionHandler.cost(new Request(0, Command.READ, 1, 0, 4096, null))).isEqualTo(4096);
        assertThat(TransmissionHandler.cost(new Request(0, Command.READ, 1, 0, 5 * GIB, null)))
                .isEqualTo(ProtocolLimits.MAX_PAYLOAD);
        // all 64 bits set: huge, not negative, so a refused READ cannot lower the bytes counted in flight
        assertThat(TransmissionHandler.cost(new Request(0, Command.READ, 1, 0, -1L, null)))
                .isEqualTo(ProtocolLimits.MAX_PAYLOAD);
    }
}
