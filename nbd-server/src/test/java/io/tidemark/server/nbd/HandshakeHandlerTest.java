package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.server.nbd.NbdTestClient.OptionReplyView;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.Error;
import io.tidemark.server.protocol.NbdProtocol.InfoType;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.NbdProtocol.ReplyChunk;
import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;
import io.tidemark.server.protocol.ProtocolLimits;
import io.tidemark.server.protocol.Wire;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HandshakeHandlerTest {

    private final MemoryDevice diskDevice = new MemoryDevice(1 << 20);
    private final MemoryDevice isoDevice = new MemoryDevice(64 * 1024,
            new DeviceCapabilities(true, false, false, true, 4096));
    private final Export disk = new Export("disk", "the disk", diskDevice);
    private final Export iso = new Export("iso", "", isoDevice);
    private EmbeddedConnection connection;
    private NbdTestClient client;

    @BeforeEach
    void connect() {
        connection = new EmbeddedConnection(disk, iso);
        client = connection.client();
    }

    private void negotiate() throws Exception {
        assertThat(client.greeting()).isEqualTo(3);
        client.clientFlags(3);
    }

    private static String infoString(OptionReplyView r) {
        return new String(r.data(), 2, r.data().length - 2, StandardCharsets.UTF_8);
    }

    @AfterEach
    void releaseWhatTheTestDidNotRead() {
        if (connection != null) {
            connection.channel.finishAndReleaseAll();
        }
    }

    @Test
    void greetingOffersFixedNewstyleAndNoZeroes() throws Exception {
        assertThat(client.greeting()).isEqualTo(0x3);
    }

    @Test
    void unknownClientFlagsCloseTheConnection() throws Exception {
        client.greeting();
        connection.send(Wire.of().u32(0x7).option(Option.LIST, new byte[0]).toArray());
        assertThat(connection.channel.isOpen()).isFalse();
        assertThat(connection.pendingBytes()).as("no reply to options behind refused flags").isZero();
    }

    @Test
    void listNamesEveryExportWithItsDescription() throws Exception {
        negotiate();
        client.option(Option.LIST, new byte[0]);
        List<OptionReplyView> replies = client.readOptionReplies();
        assertThat(replies).extracting(OptionReplyView::type)
                .containsExactly(OptionReplyType.SERVER, OptionReplyType.SERVER, OptionReplyType.ACK);
        ByteBuf first = replies.get(0).buf();
        int nameLength = first.readInt();
        assertThat(first.readCharSequence(nameLength, StandardCharsets.UTF_8)).isEqualTo("disk");
        assertThat(first.toString(StandardCharsets.UTF_8)).isEqualTo("the disk");
        assertThat(replies.get(1).buf().skipBytes(4).toString(StandardCharsets.UTF_8)).isEqualTo("iso");
    }

    @Test
    void listNamesOnlyTheExportsThisClientMayOpenAndTheOthersAreRefusedByPolicy() throws Exception {
        connection.channel.finishAndReleaseAll();
        // an embedded client has neither an IP address nor a certificate: only open exports admit it
        ExportAccess access = ExportAccess.parse(List.of("disk=cert:alice", "disk=addr:127.0.0.1"));
        connection = new EmbeddedConnection(new ClientPolicy(TlsSettings.OFF, access), disk, iso);
        client = connection.client();
        negotiate();
        client.option(Option.LIST, new byte[0]);
        List<OptionReplyView> replies = client.readOptionReplies();
        assertThat(replies).extracting(OptionReplyView::type).containsExactly(OptionReplyType.SERVER, OptionReplyType.ACK);
        assertThat(replies.get(0).buf().skipBytes(4).toString(StandardCharsets.UTF_8)).isEqualTo("iso");
        for (int option : new int[] {Option.INFO, Option.GO}) {
            client.option(option, NbdTestClient.infoData("disk"));
            assertThat(client.readOptionReply().type()).as("%s of a hidden export", Option.name(option))
                    .isEqualTo(OptionReplyType.ERR_POLICY);
        }
        client.option(Option.GO, NbdTestClient.infoData("iso"));
        assertThat(client.readOptionReplies().getLast().type()).isEqualTo(OptionReplyType.ACK);
    }

    @Test
    void listWithDataIsInvalidAndTheHandshakeGoesOn() throws Exception {
        negotiate();
        client.option(Option.LIST, new byte[] {1});
        OptionReplyView error = client.readOptionReply();
        assertThat(error.type()).isEqualTo(OptionReplyType.ERR_INVALID);
        assertThat(error.text()).contains("carries no data");
        client.option(Option.LIST, new byte[0]);
        assertThat(client.readOptionReplies()).hasSize(3);
    }

    @Test
    void unknownOptionsAreUnsupportedAndTheHandshakeGoesOn() throws Exception {
        negotiate();
        client.option(42, new byte[] {1, 2, 3, 4});
        OptionReplyView unsup = client.readOptionReply();
        assertThat(unsup.option()).isEqualTo(42);
        assertThat(unsup.type()).isEqualTo(OptionReplyType.ERR_UNSUP);
        assertThat(unsup.text()).contains("unknown (0x2a)");
        client.option(Option.STARTTLS, new byte[0]);
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ERR_UNSUP);
        assertThat(client.selectExport("disk", false, false)).isNotNull();
    }

    @Test
    void oversizedOptionIsTooBigAndTheHandshakeGoesOn() throws Exception {
        negotiate();
        client.option(Option.INFO, new byte[ProtocolLimits.MAX_OPTION_DATA + 10]);
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ERR_TOO_BIG);
        client.option(Option.LIST, new byte[0]);
        assertThat(client.readOptionReplies()).hasSize(3);
    }

    @Test
    void infoThenGoDescribeTheExportTheSameWay() throws Exception {
        negotiate();
        byte[] request = NbdTestClient.infoData("disk", InfoType.NAME, InfoType.DESCRIPTION, InfoType.BLOCK_SIZE, 77);
        client.option(Option.INFO, request);
        List<OptionReplyView> info = client.readOptionReplies();
        client.option(Option.GO, request);
        List<OptionReplyView> go = client.readOptionReplies();

        assertThat(info).extracting(OptionReplyView::option).containsOnly(Option.INFO);
        assertThat(go).extracting(OptionReplyView::option).containsOnly(Option.GO);
        assertThat(info).extracting(OptionReplyView::data).containsExactlyElementsOf(
                go.stream().map(OptionReplyView::data).toList());
        assertThat(info.getLast().type()).isEqualTo(OptionReplyType.ACK);
        ByteBuf export = info.get(0).buf();
        assertThat(export.readShort()).isEqualTo((short) InfoType.EXPORT);
        assertThat(export.readLong()).isEqualTo(1 << 20);
        int flags = export.readUnsignedShort();
        assertThat(flags).isEqualTo(TransmissionFlags.HAS_FLAGS | TransmissionFlags.SEND_FLUSH
                | TransmissionFlags.SEND_FUA | TransmissionFlags.SEND_TRIM | TransmissionFlags.SEND_WRITE_ZEROES
                | TransmissionFlags.CAN_MULTI_CONN | TransmissionFlags.SEND_CACHE | TransmissionFlags.SEND_FAST_ZERO);
        assertThat(infoString(info.get(1))).isEqualTo("disk");
        assertThat(infoString(info.get(2))).isEqualTo("the disk");
        ByteBuf sizes = info.get(3).buf();
        assertThat(sizes.readShort()).isEqualTo((short) InfoType.BLOCK_SIZE);
        assertThat(List.of(sizes.readInt(), sizes.readInt(), sizes.readInt())).containsExactly(1, 65536, 1 << 25);

        // in transmission now: a READ gets a simple reply
        client.request(0, Command.READ, 5, 0, 4);
        assertThat(client.readSimpleReply()).isEqualTo(new NbdTestClient.SimpleReplyView(0, 5));
        assertThat(client.readData(4)).containsExactly(0, 0, 0, 0);
    }

    @Test
    void infoForAnUnknownExportIsAnErrorAndTheHandshakeGoesOn() throws Exception {
        negotiate();
        client.option(Option.INFO, NbdTestClient.infoData("nope"));
        OptionReplyView r = client.readOptionReply();
        assertThat(r.type()).isEqualTo(OptionReplyType.ERR_UNKNOWN);
        assertThat(r.text()).contains("'nope'");
        client.option(Option.GO, NbdTestClient.infoData("nope"));
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ERR_UNKNOWN);
        assertThat(connection.channel.isOpen()).isTrue();
    }

    @Test
    void emptyNameSelectsTheDefaultExportAndNamesIt() throws Exception {
        negotiate();
        client.option(Option.GO, NbdTestClient.infoData(""));
        List<OptionReplyView> go = client.readOptionReplies();
        assertThat(go).anySatisfy(r -> {
            assertThat(r.buf().getShort(0)).isEqualTo((short) InfoType.NAME);
            assertThat(infoString(r)).isEqualTo("disk");
        });
        // a client that did not ask for block sizes is told the 512 it assumes anyway
        assertThat(go).anySatisfy(r -> {
            assertThat(r.buf().getShort(0)).isEqualTo((short) InfoType.BLOCK_SIZE);
            assertThat(r.buf().getInt(2)).isEqualTo(512);
        });
    }

    @Test
    void readOnlyExportAdvertisesNoWrites() throws Exception {
        NbdTestClient.ExportView view = client.handshake("iso", true, false);
        assertThat(view.flags()).isEqualTo(TransmissionFlags.HAS_FLAGS | TransmissionFlags.READ_ONLY
                | TransmissionFlags.SEND_FLUSH | TransmissionFlags.SEND_FUA | TransmissionFlags.SEND_DF
                | TransmissionFlags.CAN_MULTI_CONN | TransmissionFlags.SEND_CACHE);
    }

    @Test
    void exportNameWithAndWithoutZeroes() throws Exception {
        client.greeting();
        client.clientFlags(1);
        client.option(Option.EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
        ByteBuf reply = io.netty.buffer.Unpooled.wrappedBuffer(client.readData(134));
        assertThat(reply.readLong()).isEqualTo(1 << 20);
        assertThat(reply.readUnsignedShort() & TransmissionFlags.HAS_FLAGS).isNotZero();
        assertThat(reply.readableBytes()).isEqualTo(124);
        assertThat(connection.pendingBytes()).isZero();

        EmbeddedConnection second = new EmbeddedConnection(disk, iso);
        NbdTestClient c2 = second.client();
        c2.greeting();
        c2.clientFlags(3);
        c2.option(Option.EXPORT_NAME, new byte[0]);
        assertThat(c2.readData(10)).startsWith(0, 0, 0, 0, 0, 0x10, 0, 0);
        assertThat(second.pendingBytes()).isZero();
    }

    @Test
    void exportNameForAnUnknownExportCloses() throws Exception {
        negotiate();
        client.option(Option.EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
        assertThat(connection.channel.isOpen()).isFalse();
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws Exception {
        negotiate();
        client.option(Option.ABORT, new byte[0]);
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ACK);
        assertThat(connection.channel.isOpen()).isFalse();
    }

    @Test
    void badOptionMagicCloses() throws Exception {
        negotiate();
        connection.send(Wire.of().u64(0x1122334455667788L).u32(Option.LIST).u32(0).toArray());
        assertThat(connection.channel.isOpen()).isFalse();
    }

    @Test
    void metaContextsNeedStructuredRepliesFirst() throws Exception {
        negotiate();
        client.option(Option.SET_META_CONTEXT, NbdTestClient.metaContextData("disk", "base:allocation"));
        OptionReplyView r = client.readOptionReply();
        assertThat(r.type()).isEqualTo(OptionReplyType.ERR_INVALID);
        assertThat(r.text()).contains("NBD_OPT_STRUCTURED_REPLY");
    }

    @Test
    void listMetaContextKnowsBaseAllocationAndIgnoresOtherNamespaces() throws Exception {
        negotiate();
        client.option(Option.STRUCTURED_REPLY, new byte[0]);
        client.readOptionReply();
        for (String[] queries : new String[][] {{}, {"base:"}, {"base:allocation", "qemu:dirty-bitmap:x"}}) {
            client.option(Option.LIST_META_CONTEXT, NbdTestClient.metaContextData("disk", queries));
            List<OptionReplyView> replies = client.readOptionReplies();
            assertThat(replies).extracting(OptionReplyView::type)
                    .containsExactly(OptionReplyType.META_CONTEXT, OptionReplyType.ACK);
            assertThat(replies.get(0).buf().getInt(0)).isZero();
            assertThat(new String(replies.get(0).data(), 4, replies.get(0).data().length - 4, StandardCharsets.UTF_8))
                    .isEqualTo("base:allocation");
        }
        client.option(Option.LIST_META_CONTEXT, NbdTestClient.metaContextData("disk", "qemu:dirty-bitmap:x", "base:nope"));
        assertThat(client.readOptionReplies()).extracting(OptionReplyView::type).containsExactly(OptionReplyType.ACK);
        client.option(Option.LIST_META_CONTEXT, NbdTestClient.metaContextData("nope"));
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ERR_UNKNOWN);
    }

    @Test
    void setMetaContextSelectsBaseAllocationForThatExportOnly() throws Exception {
        negotiate();
        client.option(Option.STRUCTURED_REPLY, new byte[0]);
        client.readOptionReply();
        client.option(Option.SET_META_CONTEXT, NbdTestClient.metaContextData("iso", "base:allocation"));
        List<OptionReplyView> set = client.readOptionReplies();
        assertThat(set.get(0).buf().getInt(0)).isEqualTo(HandshakeHandler.BASE_ALLOCATION_ID);
        client.option(Option.GO, NbdTestClient.infoData("disk"));
        client.readOptionReplies();
        client.request(0, Command.BLOCK_STATUS, 9, 0, 4096);
        NbdTestClient.ChunkView error = client.readChunk();
        assertThat(error.type()).isEqualTo(ReplyChunk.ERROR);
        assertThat(error.buf().getInt(0)).isEqualTo(Error.EINVAL);
    }

    @Test
    void requestSentTogetherWithGoReachesTheTransmissionPhase() throws Exception {
        negotiate();
        byte[] go = Wire.of().option(Option.GO, NbdTestClient.infoData("disk")).toArray();
        byte[] read = Wire.of().request(0, Command.READ, 77, 0, 2).toArray();
        connection.send(Wire.of().bytes(go).bytes(read).toArray());
        client.readOptionReplies();
        assertThat(client.readSimpleReply()).isEqualTo(new NbdTestClient.SimpleReplyView(0, 77));
        assertThat(client.readData(2)).containsExactly(0, 0);
    }

    @Test
    void tooManyOptionsClose() throws Exception {
        negotiate();
        Wire w = Wire.of();
        for (int i = 0; i <= ProtocolLimits.MAX_OPTIONS_PER_CONNECTION; i++) {
            w.option(Option.STRUCTURED_REPLY, new byte[0]);
        }
        connection.send(w.toArray());
        assertThat(connection.channel.isOpen()).isFalse();
    }

    @Test
    void optionsDuringShutdownGetErrShutdown() throws Exception {
        negotiate();
        connection.shutdown.begin();
        client.option(Option.LIST, new byte[0]);
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ERR_SHUTDOWN);
        client.option(Option.ABORT, new byte[0]);
        assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ACK);
    }

    @Test
    void aClientThatNeverFinishesTheHandshakeIsClosed() throws Exception {
        negotiate();
        connection.channel.advanceTimeBy(ConnectionLimits.DEFAULT.handshakeTimeout().toMillis() + 1,
                java.util.concurrent.TimeUnit.MILLISECONDS);
        connection.channel.runScheduledPendingTasks();
        assertThat(connection.channel.isOpen()).isFalse();
    }

    @Test
    void theHandshakeTimeoutEndsWithTheHandshake() throws Exception {
        negotiate();
        client.selectExport("disk", false, false);
        connection.channel.advanceTimeBy(ConnectionLimits.DEFAULT.handshakeTimeout().toMillis() + 1,
                java.util.concurrent.TimeUnit.MILLISECONDS);
        connection.channel.runScheduledPendingTasks();
        assertThat(connection.channel.isOpen()).isTrue();
    }

    @Test
    void startTlsForgetsExtendedHeadersNegotiatedInTheClear() throws Exception {
        negotiate();
        assertThat(client.extendedHeaders()).isEqualTo(OptionReplyType.ACK);
        connection.channel.pipeline().fireUserEventTriggered(StartTlsHandler.TLS_STARTED);
        client.option(Option.SET_META_CONTEXT, NbdTestClient.metaContextData("disk", "base:allocation"));
        assertThat(client.readOptionReply().type()).as("neither structured nor extended any more")
                .isEqualTo(OptionReplyType.ERR_INVALID);
        NbdTestClient.ExportView view = client.selectExport("disk", false, false);
        assertThat(view.flags() & TransmissionFlags.SEND_DF).isZero();
        client.request(0, Command.FLUSH, 1, 0, 0);
        assertThat(client.readSimpleReply()).isEqualTo(new NbdTestClient.SimpleReplyView(0, 1));
    }
}
