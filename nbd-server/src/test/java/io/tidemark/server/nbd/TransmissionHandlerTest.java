package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.image.NoSpaceException;
import io.tidemark.server.nbd.NbdTestClient.ChunkView;
import io.tidemark.server.nbd.NbdTestClient.SimpleReplyView;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.Error;
import io.tidemark.server.protocol.NbdProtocol.MetaContext;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import io.tidemark.server.protocol.ProtocolLimits;
import io.tidemark.server.protocol.ReplyEncoder;
import io.tidemark.server.protocol.RequestDecoder;
import io.tidemark.server.protocol.TrackingAllocator;
import io.tidemark.server.protocol.Wire;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TransmissionHandlerTest {

    private static final int SIZE = 1 << 20;
    private static final int B = MemoryDevice.BLOCK;

    private final MemoryDevice device = new MemoryDevice(SIZE);
    private final MemoryDevice readOnlyDevice = new MemoryDevice(SIZE, new DeviceCapabilities(true, false, false, true, 4096));
    private EmbeddedConnection connection;

    private NbdTestClient connect(boolean structured, ConnectionLimits limits) throws IOException {
        connection = new EmbeddedConnection(new ExportRegistry(List.of(new Export("disk", "", device),
                new Export("ro", "", readOnlyDevice))), limits);
        NbdTestClient client = connection.client();
        client.handshake("disk", structured, structured);
        return client;
    }

    private NbdTestClient connect(boolean structured) throws IOException {
        return connect(structured, ConnectionLimits.DEFAULT);
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static int errorOf(ChunkView chunk) {
        assertThat(chunk.type()).isEqualTo(ReplyChunk.ERROR);
        assertThat(chunk.done()).isTrue();
        return chunk.buf().getInt(0);
    }

    private static String messageOf(ChunkView chunk) {
        ByteBuf p = chunk.buf();
        p.skipBytes(4);
        int length = p.readUnsignedShort();
        return p.readCharSequence(length, java.nio.charset.StandardCharsets.UTF_8).toString();
    }

    @AfterEach
    void releaseWhatTheTestDidNotRead() {
        if (connection != null) {
            connection.channel.finishAndReleaseAll();
        }
    }

    @Test
    void writeThenReadBackWithSimpleReplies() throws Exception {
        NbdTestClient client = connect(false);
        byte[] data = pattern(3 * B + 17, 1);
        client.write(CommandFlags.FUA, 1, 1000, data);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        assertThat(device.flushes.get()).as("FUA made durable by a flush").isEqualTo(1);
        client.request(0, Command.READ, 2, 1000, data.length);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
        assertThat(client.readData(data.length)).isEqualTo(data);
    }

    @Test
    void structuredReadSendsHolesAsHoleChunks() throws Exception {
        NbdTestClient client = connect(true);
        int run = CommandExecutor.SPARSE_READ_MINIMUM;
        client.write(0, 1, run, pattern(run, 2));
        client.write(0, 2, 3 * run, pattern(run, 3));
        client.readSimpleReply();
        client.readSimpleReply();
        client.request(0, Command.READ, 3, 0, 5 * run);
        List<ChunkView> chunks = client.readStructuredReply(3);
        assertThat(chunks).extracting(ChunkView::type).containsExactly(ReplyChunk.OFFSET_HOLE, ReplyChunk.OFFSET_DATA,
                ReplyChunk.OFFSET_HOLE, ReplyChunk.OFFSET_DATA, ReplyChunk.OFFSET_HOLE);
        assertThat(chunks.get(0).buf().getInt(8)).isEqualTo(run);
        assertThat(chunks.subList(0, 4)).noneMatch(ChunkView::done);
        assertThat(NbdTestClient.reassemble(chunks, 0, 5 * run)).isEqualTo(device.bytes(0, 5 * run));
    }

    @Test
    void shortStructuredReadIsOneDataChunk() throws Exception {
        NbdTestClient client = connect(true);
        client.write(0, 1, B, pattern(B, 9));
        client.readSimpleReply();
        client.request(0, Command.READ, 2, 0, 3 * B);
        List<ChunkView> chunks = client.readStructuredReply(2);
        assertThat(chunks).extracting(ChunkView::type).containsExactly(ReplyChunk.OFFSET_DATA);
        assertThat(NbdTestClient.reassemble(chunks, 0, 3 * B)).isEqualTo(device.bytes(0, 3 * B));
    }

    @Test
    void dontFragmentReadsAsOneDataChunkWithTheZeroesIn() throws Exception {
        NbdTestClient client = connect(true);
        int length = 4 * CommandExecutor.SPARSE_READ_MINIMUM;
        client.write(0, 1, B, pattern(10, 4));
        client.readSimpleReply();
        client.request(CommandFlags.DF, Command.READ, 2, 0, length);
        List<ChunkView> chunks = client.readStructuredReply(2);
        assertThat(chunks).extracting(ChunkView::type).containsExactly(ReplyChunk.OFFSET_DATA);
        assertThat(NbdTestClient.reassemble(chunks, 0, length)).isEqualTo(device.bytes(0, length));
    }

    @Test
    void flushTrimZeroesAndCacheReachTheDevice() throws Exception {
        NbdTestClient client = connect(true);
        client.write(0, 1, 0, pattern(4 * B, 5));
        client.readSimpleReply();
        client.request(0, Command.FLUSH, 2, 0, 0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
        assertThat(device.flushes.get()).isEqualTo(1);
        client.request(0, Command.TRIM, 3, 0, B);
        client.request(CommandFlags.NO_HOLE, Command.WRITE_ZEROES, 4, B, B);
        client.request(CommandFlags.FUA, Command.WRITE_ZEROES, 5, 2 * B, B);
        client.request(0, Command.CACHE, 6, 0, B);
        for (long cookie = 3; cookie <= 6; cookie++) {
            assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, cookie));
        }
        assertThat(device.caches.get()).isEqualTo(1);
        assertThat(device.bytes(0, 3 * B)).containsOnly(0);
        client.request(0, Command.BLOCK_STATUS, 7, 0, 4 * B);
        ByteBuf status = client.readStructuredReply(7).getFirst().buf();
        assertThat(status.readInt()).isEqualTo(HandshakeHandler.BASE_ALLOCATION_ID);
        int hole = MetaContext.STATE_HOLE | MetaContext.STATE_ZERO;
        assertThat(List.of(status.readInt(), status.readInt(), status.readInt(), status.readInt(), status.readInt(),
                status.readInt(), status.readInt(), status.readInt()))
                .containsExactly(B, hole, B, MetaContext.STATE_ZERO, B, hole, B, 0);
        assertThat(status.isReadable()).isFalse();
    }

    @Test
    void fastZeroTheDeviceCannotDoIsNotSupported() throws Exception {
        NbdTestClient client = connect(true);
        client.request(CommandFlags.FAST_ZERO | CommandFlags.NO_HOLE, Command.WRITE_ZEROES, 1, 0, B);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.ENOTSUP);
        client.request(CommandFlags.FAST_ZERO, Command.WRITE_ZEROES, 2, 0, B);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
    }

    @Test
    void blockStatusMergesRunsAndHonoursReqOne() throws Exception {
        NbdTestClient client = connect(true);
        client.write(0, 1, 2 * B, pattern(3 * B, 6));
        client.readSimpleReply();
        client.request(0, Command.BLOCK_STATUS, 2, 0, 8 * B);
        ByteBuf all = client.readStructuredReply(2).getFirst().buf().skipBytes(4);
        int hole = MetaContext.STATE_HOLE | MetaContext.STATE_ZERO;
        assertThat(List.of(all.readInt(), all.readInt(), all.readInt(), all.readInt(), all.readInt(), all.readInt()))
                .containsExactly(2 * B, hole, 3 * B, 0, 3 * B, hole);
        client.request(CommandFlags.REQ_ONE, Command.BLOCK_STATUS, 3, B, B / 2);
        ByteBuf one = client.readStructuredReply(3).getFirst().buf().skipBytes(4);
        assertThat(List.of(one.readInt(), one.readInt())).containsExactly(B / 2, hole);
        assertThat(one.isReadable()).isFalse();
        // the final extent of the device, unaligned length: progress, never zero
        client.request(0, Command.BLOCK_STATUS, 4, SIZE - 1, 1);
        ByteBuf last = client.readStructuredReply(4).getFirst().buf().skipBytes(4);
        assertThat(last.readInt()).isEqualTo(1);
    }

    @Test
    void blockStatusErrors() throws Exception {
        NbdTestClient client = connect(true);
        client.request(0, Command.BLOCK_STATUS, 1, 0, 0);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.EINVAL);
        client.request(0, Command.BLOCK_STATUS, 2, SIZE - B, 2 * B);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.EINVAL);
    }

    @Test
    void outOfRangeRequestsGetTheSpecsErrorsAndTheConnectionLives() throws Exception {
        NbdTestClient client = connect(true);
        client.request(0, Command.READ, 1, SIZE - 1, 2);
        ChunkView read = client.readChunk();
        assertThat(errorOf(read)).isEqualTo(Error.EINVAL);
        assertThat(messageOf(read)).contains("beyond the export size");
        client.write(0, 2, SIZE - 1, new byte[2]);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.ENOSPC);
        client.request(0, Command.WRITE_ZEROES, 3, SIZE, 1);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.ENOSPC);
        client.request(0, Command.TRIM, 4, -1L, 1);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.EINVAL);
        client.request(0, Command.FLUSH, 5, 1, 0);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.EINVAL);
        client.request(0, Command.READ, 6, 0, ProtocolLimits.MAX_PAYLOAD + 1L);
        assertThat(errorOf(client.readChunk())).as("too long for one reply: retry smaller").isEqualTo(Error.EOVERFLOW);
        client.request(0, Command.READ, 7, 0, 4);
        assertThat(NbdTestClient.reassemble(client.readStructuredReply(7), 0, 4)).containsOnly(0);
    }

    @Test
    void readErrorWithSimpleRepliesSendsNoPayload() throws Exception {
        NbdTestClient client = connect(false);
        client.request(0, Command.READ, 1, SIZE, 512);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EINVAL, 1));
        client.request(0, Command.READ, 3, 0, ProtocolLimits.MAX_PAYLOAD + 1L);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EINVAL, 3));
        client.request(0, Command.FLUSH, 2, 0, 0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
    }

    @Test
    void unknownCommandsAndFlagsAreInvalid() throws Exception {
        NbdTestClient client = connect(true);
        client.request(0, 0x42, 1, 0, 0);
        ChunkView unknown = client.readChunk();
        assertThat(errorOf(unknown)).isEqualTo(Error.EINVAL);
        assertThat(messageOf(unknown)).contains("unknown command unknown (0x42)");
        client.write(CommandFlags.DF, 2, 0, new byte[8]);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.EINVAL);
        client.request(CommandFlags.REQ_ONE, Command.READ, 3, 0, 8);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.EINVAL);
        client.request(0x100, Command.FLUSH, 4, 0, 0);
        assertThat(errorOf(client.readChunk())).isEqualTo(Error.EINVAL);
        assertThat(device.bytes(0, 8)).containsOnly(0);
    }

    @Test
    void fastZeroIsInvalidWhereNotAdvertised() throws Exception {
        MemoryDevice slow = new MemoryDevice(SIZE, new DeviceCapabilities(false, true, false, true, 4096));
        connection = new EmbeddedConnection(new Export("slow", "", slow));
        NbdTestClient client = connection.client();
        client.handshake("slow", false, false);
        client.request(CommandFlags.FAST_ZERO, Command.WRITE_ZEROES, 1, 0, B);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EINVAL, 1));
    }

    @Test
    void writesToAReadOnlyExportArePermissionErrorsAndTheirPayloadIsConsumed() throws Exception {
        connection = new EmbeddedConnection(new Export("ro", "", readOnlyDevice));
        NbdTestClient client = connection.client();
        client.handshake("ro", false, false);
        client.write(0, 1, 0, pattern(B, 7));
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EPERM, 1));
        client.request(0, Command.TRIM, 2, 0, B);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EPERM, 2));
        client.request(0, Command.WRITE_ZEROES, 3, 0, B);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EPERM, 3));
        client.request(0, Command.READ, 4, 0, 4);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 4));
        assertThat(client.readData(4)).containsOnly(0);
    }

    @Test
    void writeLargerThanTheMaximumPayloadIsConsumedAndRefused() throws Exception {
        NbdTestClient client = connect(false);
        int length = ProtocolLimits.MAX_PAYLOAD + 1;
        connection.send(Wire.of().request(0, Command.WRITE, 1, 0, length).toArray());
        byte[] chunk = new byte[1 << 20];
        for (int left = length; left > 0; left -= chunk.length) {
            connection.send(Arrays.copyOf(chunk, Math.min(chunk.length, left)));
        }
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EINVAL, 1));
        client.request(0, Command.FLUSH, 2, 0, 0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
    }

    @Test
    void deviceFailuresMapToNbdErrors() throws Exception {
        NbdTestClient client = connect(false);
        device.nextFailure.set(new NoSpaceException("quota reached"));
        client.write(0, 1, 0, new byte[512]);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.ENOSPC, 1));
        device.nextFailure.set(new IOException("No space left on device"));
        client.write(0, 2, 0, new byte[512]);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.ENOSPC, 2));
        device.nextFailure.set(new IOException("Input/output error"));
        client.request(0, Command.READ, 3, 0, 512);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EIO, 3));
        device.nextFailure.set(new IOException("disk on fire"));
        client.request(0, Command.FLUSH, 4, 0, 0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EIO, 4));
        assertThat(connection.pendingBytes()).isZero();
    }

    @Test
    void shortReadsThePageCacheHoldsAreAnsweredWithoutTheIoThread() throws Exception {
        NbdTestClient client = connect(false);
        client.write(0, 1, 0, pattern(2 * B, 12));
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        connection.queueIo();
        device.cached = true;
        client.request(0, Command.READ, 2, 100, B);
        assertThat(connection.queuedIoCount()).isZero();
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
        assertThat(client.readData(B)).isEqualTo(Arrays.copyOfRange(pattern(2 * B, 12), 100, 100 + B));
        client.request(0, Command.READ, 3, 0, CommandExecutor.CACHED_READ_MAXIMUM); // long: the I/O thread's
        assertThat(connection.queuedIoCount()).isEqualTo(1);
        device.cached = false;
        client.request(0, Command.READ, 4, 0, B); // not cached: the I/O thread's
        assertThat(connection.queuedIoCount()).isEqualTo(2);
        assertThat(device.cachedReads).hasValue(1);
        assertThat(connection.pendingBytes()).isZero();
    }

    @Test
    void writesTheDeviceTakesAtOnceAreAnsweredWithoutTheIoThread() throws Exception {
        NbdTestClient client = connect(false);
        connection.queueIo();
        device.quickWrites = true;
        byte[] data = pattern(3 * B + 5, 21);
        client.write(0, 1, 700, data);
        assertThat(connection.queuedIoCount()).isZero();
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        assertThat(device.bytes(700, data.length)).isEqualTo(data);
        client.write(CommandFlags.FUA, 2, 0, pattern(B, 22)); // FUA needs a flush: the I/O thread's
        assertThat(connection.queuedIoCount()).isEqualTo(1);
        device.quickWrites = false;
        client.write(0, 3, 0, pattern(B, 23)); // refused by the device: the I/O thread's
        assertThat(connection.queuedIoCount()).isEqualTo(2);
        connection.runQueuedIo(0);
        connection.runQueuedIo(0);
        assertThat(List.of(client.readSimpleReply(), client.readSimpleReply()))
                .containsExactlyInAnyOrder(new SimpleReplyView(0, 2), new SimpleReplyView(0, 3));
        assertThat(device.bytes(0, B)).isEqualTo(pattern(B, 23));
        assertThat(device.quickWriteCount).hasValue(1);
        assertThat(connection.pendingBytes()).isZero();
    }

    @Test
    void aSlowQuickWriteSendsTheNextWritesToTheIoThread() throws Exception {
        NbdTestClient client = connect(false);
        connection.queueIo();
        device.quickWrites = true;
        device.quickWriteMillis = 2 * CommandExecutor.SLOW_QUICK_WRITE_NANOS / 1_000_000;
        client.write(0, 1, 0, pattern(B, 24));
        assertThat(connection.queuedIoCount()).isZero();
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        client.write(0, 2, B, pattern(B, 25));
        assertThat(connection.queuedIoCount()).as("within the back-off after a slow write").isEqualTo(1);
        connection.runQueuedIo(0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
        assertThat(device.bytes(B, B)).isEqualTo(pattern(B, 25));
    }

    @Test
    void aQuickWriteThatFailsIsAnErrorReplyAndReleasesItsPayload() throws Exception {
        NbdTestClient client = connect(false);
        device.quickWrites = true;
        device.nextFailure.set(new NoSpaceException("host filesystem is full"));
        ByteBuf failing = sendRetained(Wire.of().request(0, Command.WRITE, 1, 0, B).bytes(pattern(B, 26)).toArray());
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.ENOSPC, 1));
        ByteBuf succeeding = sendRetained(Wire.of().request(0, Command.WRITE, 2, 0, B).bytes(pattern(B, 27)).toArray());
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
        assertThat(device.bytes(0, B)).isEqualTo(pattern(B, 27));
        assertThat(device.quickWriteCount).hasValue(1);
        // the payloads were slices of what the socket delivered: released, it is released too
        assertThat(List.of(failing.refCnt(), succeeding.refCnt())).containsExactly(1, 1);
        failing.release();
        succeeding.release();
        assertThat(connection.pendingBytes()).isZero();
    }

    /** Delivers {@code bytes} as one inbound buffer, keeping a reference of the test's own to it. */
    private ByteBuf sendRetained(byte[] bytes) {
        ByteBuf in = Unpooled.wrappedBuffer(bytes).retain();
        connection.channel.writeInbound(in);
        connection.channel.runPendingTasks();
        return in;
    }

    @Test
    void shortStructuredReadFromThePageCacheIsOneDataChunk() throws Exception {
        NbdTestClient client = connect(true);
        client.write(0, 1, B, pattern(B, 13));
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        connection.queueIo();
        device.cached = true;
        client.request(0, Command.READ, 2, B, B);
        List<ChunkView> chunks = client.readStructuredReply(2);
        assertThat(connection.queuedIoCount()).isZero();
        assertThat(chunks).extracting(ChunkView::type).containsExactly(ReplyChunk.OFFSET_DATA);
        assertThat(NbdTestClient.reassemble(chunks, B, B)).isEqualTo(pattern(B, 13));
    }

    @Test
    void aPageCacheReadThatFailsIsAnErrorReply() throws Exception {
        NbdTestClient client = connect(false);
        device.cached = true;
        device.nextFailure.set(new IOException("Input/output error"));
        client.request(0, Command.READ, 1, 0, 512);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.EIO, 1));
        client.request(0, Command.READ, 2, 0, 512);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
        assertThat(client.readData(512)).isEqualTo(new byte[512]);
    }

    @Test
    void repliesLeaveInTheOrderRequestsFinish() throws Exception {
        NbdTestClient client = connect(false);
        connection.queueIo();
        client.request(0, Command.READ, 1, 0, 8);
        client.request(0, Command.FLUSH, 2, 0, 0);
        client.request(0, Command.READ, 3, 8, 8);
        assertThat(connection.queuedIoCount()).isEqualTo(3);
        connection.runQueuedIo(2);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 3));
        client.readData(8);
        connection.runQueuedIo(1);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
        connection.runQueuedIo(0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
    }

    @Test
    void disconnectFinishesInFlightRequestsThenCloses() throws Exception {
        NbdTestClient client = connect(false);
        connection.queueIo();
        client.write(0, 1, 0, pattern(512, 8));
        client.request(0, Command.DISC, 2, 0, 0);
        client.request(0, Command.READ, 3, 0, 512); // sent after DISC: ignored
        assertThat(connection.channel.isOpen()).isTrue();
        assertThat(connection.queuedIoCount()).isEqualTo(1);
        connection.runQueuedIo(0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        assertThat(connection.pendingBytes()).isZero();
        assertThat(connection.channel.isOpen()).isFalse();
        assertThat(device.bytes(0, 512)).isEqualTo(pattern(512, 8));
    }

    @Test
    void shutdownAnswersNewRequestsWithEshutdownAndClosesWhenIdle() throws Exception {
        NbdTestClient client = connect(false);
        connection.queueIo();
        client.request(0, Command.READ, 1, 0, 8);
        connection.shutdown.begin();
        connection.channel.pipeline().fireUserEventTriggered(TransmissionHandler.SHUTDOWN_EVENT);
        client.request(0, Command.READ, 2, 0, 8);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(Error.ESHUTDOWN, 2));
        assertThat(connection.channel.isOpen()).isTrue();
        connection.runQueuedIo(0);
        assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        client.readData(8);
        assertThat(connection.channel.isOpen()).isFalse();
    }

    @Test
    void badRequestMagicCloses() throws Exception {
        connect(false);
        connection.send(Wire.of().u32(0x12560953).u16(0).u16(0).u64(1).u64(0).u32(0).toArray());
        assertThat(connection.channel.isOpen()).isFalse();
    }

    @Test
    void inFlightLimitsStopReadingAndResume() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(ProtocolLimits.MAX_PAYLOAD, 2, Duration.ofSeconds(30));
        NbdTestClient client = connect(false, limits);
        connection.queueIo();
        for (int cookie = 1; cookie <= 5; cookie++) {
            client.request(0, Command.READ, cookie, 0, 8);
        }
        assertThat(connection.queuedIoCount()).isEqualTo(2);
        assertThat(connection.channel.config().isAutoRead()).isFalse();
        List<Long> cookies = new ArrayList<>();
        while (connection.queuedIoCount() > 0) {
            connection.runQueuedIo(0);
            SimpleReplyView reply = client.readSimpleReply();
            client.readData(8);
            cookies.add(reply.cookie());
        }
        assertThat(cookies).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(connection.channel.config().isAutoRead()).isTrue();
    }

    @Test
    void readsBeyondTheByteLimitWaitForEarlierOnes() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(SIZE, 100, Duration.ofSeconds(30));
        NbdTestClient client = connect(false, limits);
        connection.queueIo();
        int length = 3 * SIZE / 4;
        client.request(0, Command.READ, 1, 0, length);
        client.request(0, Command.READ, 2, 0, length);
        client.request(0, Command.FLUSH, 3, 0, 0);
        assertThat(connection.queuedIoCount()).as("the second read waits, and the flush behind it").isEqualTo(1);
        assertThat(connection.channel.config().isAutoRead()).isFalse();
        connection.runQueuedIo(0);
        assertThat(client.readSimpleReply().cookie()).isEqualTo(1);
        client.readData(length);
        assertThat(connection.queuedIoCount()).isEqualTo(2);
        connection.runQueuedIo(0);
        connection.runQueuedIo(0);
        assertThat(client.readSimpleReply().cookie()).isEqualTo(2);
        client.readData(length);
        assertThat(client.readSimpleReply().cookie()).isEqualTo(3);
        assertThat(connection.channel.config().isAutoRead()).isTrue();
    }

    @Test
    void replyToAClientThatLeftIsReleasedNotLeaked() throws Exception {
        connection = new EmbeddedConnection(new Export("disk", "", device));
        TrackingAllocator allocator = new TrackingAllocator();
        connection.channel.config().setAllocator(allocator);
        NbdTestClient client = connection.client();
        client.handshake("disk", true, false);
        connection.queueIo();
        client.request(0, Command.READ, 1, 0, 2 * CommandExecutor.SPARSE_READ_MINIMUM);
        client.request(0, Command.READ, 2, 0, 512);
        connection.channel.close();
        connection.runQueuedIo(0);
        connection.runQueuedIo(0);
        assertThat(allocator.made).isNotEmpty().allSatisfy(b -> assertThat(b.refCnt()).isZero());
    }

    /**
     * A connection in the transmission phase (simple replies) whose handler runs under a
     * {@link StoppableEventLoop} over the channel's own; its disk I/O queues in {@code io}.
     */
    private StoppableConnection transmissionUnder(InFlightMemory memory, Queue<Runnable> io, TrackingAllocator allocator) {
        Export disk = new Export("disk", "", device);
        ServerContext context = new ServerContext(new ExportRegistry(List.of(disk)), DiskExecutors.shared(io::add),
                new ShutdownSignal(), ConnectionLimits.DEFAULT, memory);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(allocator);
        StoppableEventLoop loop = new StoppableEventLoop(channel.eventLoop());
        channel.pipeline().addLast(new RequestDecoder(), new ReplyEncoder()).addLast(loop, "transmission",
                new TransmissionHandler(context, new NegotiatedSession(disk, false, false, 0, NegotiatedSession.NO_CONTEXT)));
        return new StoppableConnection(channel, loop);
    }

    private record StoppableConnection(EmbeddedChannel channel, StoppableEventLoop loop) {
    }

    @Test
    void repliesFinishedAfterTheEventLoopStoppedAreAllReleased() {
        InFlightMemory memory = new InFlightMemory(SIZE);
        ArrayDeque<Runnable> io = new ArrayDeque<>();
        TrackingAllocator allocator = new TrackingAllocator();
        StoppableConnection c = transmissionUnder(memory, io, allocator);
        c.channel().writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.READ, 1, 0, B)
                .request(0, Command.READ, 2, B, B).request(0, Command.READ, 3, 2 * B, B).toArray()));
        assertThat(io).hasSize(3);
        c.channel().close();
        c.loop().stop(); // the server shut its event loops down while disk I/O still ran (past the drain timeout)
        io.forEach(Runnable::run);
        assertThat(allocator.unreleased()).as("every reply's buffer, not just the first refused one's").isEmpty();
        assertThat(memory.used()).isZero();
    }

    @Test
    void aConnectionParkedForMemoryWhenTheEventLoopsStopStrandsNoOtherRepliesWhenWoken() {
        InFlightMemory memory = new InFlightMemory(SIZE);
        ArrayDeque<Runnable> io = new ArrayDeque<>();
        TrackingAllocator allocator = new TrackingAllocator();
        StoppableConnection reader = transmissionUnder(memory, io, allocator);
        reader.channel().writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.READ, 1, 0, SIZE / 2)
                .request(0, Command.READ, 2, SIZE / 2, SIZE / 2).toArray()));
        assertThat(io).hasSize(2);
        assertThat(memory.used()).as("the budget is spent").isEqualTo(SIZE);
        StoppableConnection parked = transmissionUnder(memory, new ArrayDeque<>(), allocator);
        parked.channel().writeInbound(Unpooled.wrappedBuffer(Wire.of().request(0, Command.READ, 3, 0, B).toArray()));
        reader.channel().close();
        parked.channel().close(); // its wake-up stays queued in the budget
        reader.loop().stop();
        parked.loop().stop();
        List<RuntimeException> failures = new ArrayList<>();
        for (Runnable task : io) {
            try {
                task.run();
            } catch (RuntimeException e) {
                failures.add(e); // as the disk executor, which logs them and goes on
            }
        }
        assertThat(allocator.unreleased()).as("the second reply, after the first one's release woke the parked")
                .isEmpty();
        assertThat(memory.used()).isZero();
        assertThat(failures).isEmpty();
    }

    @Test
    void writePayloadsWaitingBeyondTheLimitsAreReleasedWhenTheClientGoes() throws Exception {
        InFlightMemory memory = new InFlightMemory(SIZE);
        connection = new EmbeddedConnection(new ExportRegistry(List.of(new Export("disk", "", device))),
                new ConnectionLimits(ProtocolLimits.MAX_PAYLOAD, 1, Duration.ofSeconds(30)), memory);
        connection.client().handshake("disk", false, false);
        connection.queueIo();
        List<ByteBuf> sent = new ArrayList<>();
        for (int cookie = 1; cookie <= 3; cookie++) {
            sent.add(sendRetained(Wire.of().request(0, Command.WRITE, cookie, 0, B).bytes(pattern(B, cookie)).toArray()));
        }
        assertThat(connection.queuedIoCount()).as("one in flight, two waiting").isEqualTo(1);
        assertThat(memory.used()).isEqualTo(3 * B);
        connection.channel.close();
        assertThat(sent).extracting(ByteBuf::refCnt).as("the waiting payloads' slices released").containsExactly(2, 1, 1);
        connection.runQueuedIo(0);
        assertThat(sent).extracting(ByteBuf::refCnt).containsExactly(1, 1, 1);
        assertThat(memory.used()).isZero();
        sent.forEach(ByteBuf::release);
    }

    @Test
    void aWritePayloadHalfReceivedWhenTheClientGoesIsReleased() throws Exception {
        connection = new EmbeddedConnection(new Export("disk", "", device));
        TrackingAllocator allocator = new TrackingAllocator();
        connection.channel.config().setAllocator(allocator);
        connection.client().handshake("disk", false, false);
        int length = 1 << 20; // long enough to be passed on in parts (RequestDecoder.MIN_SLICED_PAYLOAD)
        // enough bytes with the header for the first 64 KiB block to stay in the buffer they came in
        ByteBuf first = sendRetained(Wire.of().request(0, Command.WRITE, 1, 0, length).bytes(pattern(100_000, 1)).toArray());
        assertThat(first.refCnt()).as("the payload's first part holds what it arrived in").isEqualTo(2);
        connection.send(pattern(50_000, 2));
        connection.channel.close();
        assertThat(first.refCnt()).isEqualTo(1);
        assertThat(allocator.unreleased()).isEmpty();
        first.release();
    }

    /** Two connections sharing the budget {@code memory}; the test's {@link #connection} is the first. */
    private EmbeddedConnection connectPair(InFlightMemory memory) throws IOException {
        ExportRegistry exports = new ExportRegistry(List.of(new Export("disk", "", device)));
        connection = new EmbeddedConnection(exports, ConnectionLimits.DEFAULT, memory);
        connection.client().handshake("disk", false, false);
        connection.queueIo();
        EmbeddedConnection other = new EmbeddedConnection(exports, ConnectionLimits.DEFAULT, memory);
        other.client().handshake("disk", false, false);
        other.queueIo();
        return other;
    }

    @Test
    void whenTheServerWideBudgetIsSpentAnotherConnectionWaitsUntilRepliesLeave() throws Exception {
        InFlightMemory memory = new InFlightMemory(SIZE);
        EmbeddedConnection other = connectPair(memory);
        try {
            NbdTestClient flooder = connection.client();
            NbdTestClient quiet = other.client();
            flooder.request(0, Command.READ, 1, 0, SIZE);
            assertThat(memory.used()).isEqualTo(SIZE);
            assertThat(connection.channel.config().isAutoRead()).as("the budget is spent").isFalse();

            quiet.request(0, Command.READ, 7, 0, 4096);
            assertThat(other.queuedIoCount()).as("no memory for the quiet client's read yet").isZero();
            assertThat(other.channel.config().isAutoRead()).isFalse();

            connection.runQueuedIo(0);
            assertThat(flooder.readSimpleReply().cookie()).isEqualTo(1);
            flooder.readData(SIZE);
            other.channel.runPendingTasks(); // the wake-up runs on the quiet connection's event loop
            assertThat(other.queuedIoCount()).as("released memory woke the quiet client").isEqualTo(1);
            other.runQueuedIo(0);
            assertThat(quiet.readSimpleReply().cookie()).isEqualTo(7);
            quiet.readData(4096);
            assertThat(other.channel.config().isAutoRead()).isTrue();
            assertThat(memory.used()).as("every charge released").isZero();
        } finally {
            other.channel.finishAndReleaseAll();
        }
    }

    @Test
    void aConnectionGetsItsFairShareAndAnotherStillGetsIn() throws Exception {
        InFlightMemory memory = new InFlightMemory(SIZE);
        EmbeddedConnection other = connectPair(memory);
        try {
            NbdTestClient flooder = connection.client();
            flooder.request(0, Command.READ, 1, 0, SIZE / 2);
            flooder.request(0, Command.READ, 2, 0, SIZE / 4);
            assertThat(connection.queuedIoCount()).as("half the budget of two connections is the flooder's share")
                    .isEqualTo(1);
            other.client().request(0, Command.READ, 7, 0, SIZE / 4);
            assertThat(other.queuedIoCount()).isEqualTo(1);
            other.runQueuedIo(0);
            other.client().readSimpleReply();
            other.client().readData(SIZE / 4);
            connection.runQueuedIo(0);
            flooder.readSimpleReply();
            flooder.readData(SIZE / 2);
            connection.channel.runPendingTasks();
            assertThat(connection.queuedIoCount()).as("the flooder's next read, once its first left").isEqualTo(1);
        } finally {
            other.channel.finishAndReleaseAll();
        }
    }

    @Test
    void writePayloadsCountAgainstTheBudgetUntilTheirRepliesLeaveOrTheClientGoes() throws Exception {
        InFlightMemory memory = new InFlightMemory(SIZE);
        connection = new EmbeddedConnection(new ExportRegistry(List.of(new Export("disk", "", device))),
                ConnectionLimits.DEFAULT, memory);
        NbdTestClient client = connection.client();
        client.handshake("disk", false, false);
        connection.queueIo();
        client.write(0, 1, 0, pattern(SIZE / 4, 1));
        client.write(0, 2, 0, pattern(SIZE / 4, 2));
        assertThat(memory.used()).isEqualTo(SIZE / 2);
        connection.runQueuedIo(0);
        assertThat(client.readSimpleReply().cookie()).isEqualTo(1);
        assertThat(memory.used()).isEqualTo(SIZE / 4);
        connection.channel.close();
        connection.runQueuedIo(0);
        assertThat(memory.used()).as("the reply of a client that left is released too").isZero();
    }

    @Test
    void aReadRefusedItsFairShareWithNothingInFlightStartsOnceItsOwnReplyLeaves() throws Exception {
        InFlightMemory memory = new InFlightMemory(SIZE);
        EmbeddedConnection other = connectPair(memory);
        try {
            NbdTestClient c = connection.client();
            c.request(0, Command.READ, 1, 0, SIZE / 4);
            c.request(0, Command.READ, 2, 0, SIZE / 2);
            c.write(0, 3, 0, pattern(SIZE / 4, 3));
            assertThat(connection.queuedIoCount()).isEqualTo(1);
            connection.runQueuedIo(0);
            assertThat(c.readSimpleReply().cookie()).isEqualTo(1);
            c.readData(SIZE / 4);
            connection.channel.runPendingTasks();
            other.channel.runPendingTasks();
            assertThat(connection.queuedIoCount()).as("READ 2 and WRITE 3 started once READ 1 left").isEqualTo(2);
        } finally {
            other.channel.finishAndReleaseAll();
        }
    }
}
