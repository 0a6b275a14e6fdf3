package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import io.tidemark.server.nbd.NbdTestClient.SimpleReplyView;
import io.tidemark.server.protocol.NbdProtocol;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class NbdServerTest {

    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    private final MemoryDevice device = new MemoryDevice(SIZE);
    private NbdServer server;

    private NbdServer start(List<ListenAddress> addresses) throws Exception {
        server = NbdServer.start(new ExportRegistry(List.of(new Export("disk", "memory disk", device))), addresses,
                ConnectionLimits.DEFAULT, 2);
        return server;
    }

    private int tcpPort() {
        return ((ListenAddress.Tcp) server.addresses().getFirst()).port();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void servesOverTcpWithConcurrentRequestsAndSharesTheDeviceAcrossConnections() throws Exception {
        start(List.of(new ListenAddress.Tcp("127.0.0.1", 0)));
        assertThat(tcpPort()).isPositive();
        assertThat(server.addresses().getFirst().uri()).isEqualTo("nbd://127.0.0.1:" + tcpPort());
        long seed = System.nanoTime();
        Random random = new Random(seed);
        byte[] data = new byte[256 * 1024];
        random.nextBytes(data);
        try (SocketLink a = SocketLink.tcp("127.0.0.1", tcpPort()); SocketLink b = SocketLink.tcp("127.0.0.1", tcpPort())) {
            NbdTestClient first = new NbdTestClient(a);
            NbdTestClient second = new NbdTestClient(b);
            NbdTestClient.ExportView view = first.handshake("disk", true, true);
            assertThat(view.size()).isEqualTo(SIZE);
            assertThat(view.flags() & TransmissionFlags.CAN_MULTI_CONN).isNotZero();
            second.handshake("", false, false);

            // pipeline 16 writes without waiting, then collect the replies in any order
            int piece = data.length / 16;
            for (int i = 0; i < 16; i++) {
                first.write(CommandFlags.FUA, i, (long) i * piece, java.util.Arrays.copyOfRange(data, i * piece,
                        (i + 1) * piece));
            }
            java.util.Set<Long> cookies = new java.util.HashSet<>();
            for (int i = 0; i < 16; i++) {
                SimpleReplyView reply = first.readSimpleReply();
                assertThat(reply.error()).isZero();
                cookies.add(reply.cookie());
            }
            assertThat(cookies).hasSize(16);
            first.request(0, Command.FLUSH, 99, 0, 0);
            assertThat(first.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 99));

            second.request(0, Command.READ, 7, 0, data.length);
            assertThat(second.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 7));
            assertThat(second.readData(data.length)).as("seed %d", seed).isEqualTo(data);

            first.request(0, Command.READ, 8, 0, 2 * data.length);
            byte[] read = NbdTestClient.reassemble(first.readStructuredReply(8), 0, 2 * data.length);
            assertThat(java.util.Arrays.copyOf(read, data.length)).isEqualTo(data);
            assertThat(java.util.Arrays.copyOfRange(read, data.length, read.length)).containsOnly(0);

            first.request(0, Command.DISC, 9, 0, 0);
            assertThat(a.closedByServer()).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void servesOverTcpAndAUnixSocketOnEitherTransport(Transport transport) throws Exception {
        Path socket = dir.resolve("nbd.sock");
        server = NbdServer.start(new ExportRegistry(List.of(new Export("disk", "memory disk", device))),
                List.of(new ListenAddress.Tcp("127.0.0.1", 0), new ListenAddress.Unix(socket)), ConnectionLimits.DEFAULT,
                1, transport);
        try (SocketLink link = SocketLink.tcp("127.0.0.1", tcpPort())) {
            NbdTestClient client = new NbdTestClient(link);
            client.handshake("disk", false, false);
            client.write(0, 1, 0, new byte[] {4, 5, 6});
            assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
        }
        try (SocketLink link = SocketLink.unix(socket)) {
            NbdTestClient client = new NbdTestClient(link);
            client.handshake("disk", false, false);
            client.request(0, Command.READ, 2, 0, 3);
            assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 2));
            assertThat(client.readData(3)).containsExactly(4, 5, 6);
        }
    }

    /**
     * Reads of at least {@link ZeroCopyReads#MINIMUM} from a raw file and from a thin image go out
     * as file regions (sendfile on epoll, transferTo on NIO); the client gets the file's bytes, in
     * simple and in structured replies, and a read spanning a hole still gets its hole chunk.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void zeroCopyReadsReturnTheStoredBytesOnEitherTransport(Transport transport) throws Exception {
        long seed = System.nanoTime();
        byte[] data = new byte[1 << 20];
        new Random(seed).nextBytes(data);
        Path rawPath = Files.write(dir.resolve("disk.raw"), data);
        try (RawFileDevice raw = RawFileDevice.open(rawPath, false);
                ThinImage thin = ThinImage.create(dir.resolve("disk.tdm"), 2L * data.length, 65536, false)) {
            thin.write(0, java.nio.ByteBuffer.wrap(data), false);
            server = NbdServer.start(new ExportRegistry(List.of(new Export("raw", "raw file", raw),
                    new Export("thin", "thin image", thin))), List.of(new ListenAddress.Tcp("127.0.0.1", 0)),
                    ConnectionLimits.DEFAULT, 2, transport);
            for (String export : List.of("raw", "thin")) {
                try (SocketLink simpleLink = SocketLink.tcp("127.0.0.1", tcpPort());
                        SocketLink structuredLink = SocketLink.tcp("127.0.0.1", tcpPort())) {
                    NbdTestClient simple = new NbdTestClient(simpleLink);
                    simple.handshake(export, false, false);
                    for (int i = 0; i < 4; i++) {
                        simple.request(0, Command.READ, i, 1000 + i * 200_000L, 300_000);
                    }
                    for (int i = 0; i < 4; i++) {
                        SimpleReplyView reply = simple.readSimpleReply();
                        assertThat(reply.error()).isZero();
                        int at = 1000 + (int) reply.cookie() * 200_000;
                        assertThat(simple.readData(300_000)).as("%s seed %d", export, seed)
                                .isEqualTo(java.util.Arrays.copyOfRange(data, at, at + 300_000));
                    }
                    NbdTestClient structured = new NbdTestClient(structuredLink);
                    structured.handshake(export, true, false);
                    structured.request(0, Command.READ, 9, 4096, 256 * 1024);
                    assertThat(NbdTestClient.reassemble(structured.readStructuredReply(9), 4096, 256 * 1024))
                            .as("%s seed %d", export, seed).isEqualTo(java.util.Arrays.copyOfRange(data, 4096, 4096 + 256 * 1024));
                }
            }
            try (SocketLink link = SocketLink.tcp("127.0.0.1", tcpPort())) {
                NbdTestClient client = new NbdTestClient(link);
                client.handshake("thin", true, false);
                client.request(0, Command.READ, 10, data.length - 65536, 2 * 65536);
                List<NbdTestClient.ChunkView> chunks = client.readStructuredReply(10);
                assertThat(chunks).extracting(NbdTestClient.ChunkView::type)
                        .containsExactly(NbdProtocol.ReplyChunk.OFFSET_DATA, NbdProtocol.ReplyChunk.OFFSET_HOLE);
                byte[] read = NbdTestClient.reassemble(chunks, data.length - 65536, 2 * 65536);
                assertThat(java.util.Arrays.copyOf(read, 65536))
                        .isEqualTo(java.util.Arrays.copyOfRange(data, data.length - 65536, data.length));
            }
            server.close();
            server = null;
        }
    }

    @Test
    void servesOverAUnixSocketAndRemovesItOnClose() throws Exception {
        Path socket = dir.resolve("nbd.sock");
        start(List.of(new ListenAddress.Unix(socket)));
        assertThat(server.addresses().getFirst().uri()).isEqualTo("nbd+unix:///?socket=" + socket);
        try (SocketLink link = SocketLink.unix(socket)) {
            NbdTestClient client = new NbdTestClient(link);
            client.greeting();
            client.clientFlags(3);
            client.option(Option.LIST, new byte[0]);
            assertThat(client.readOptionReplies()).extracting(NbdTestClient.OptionReplyView::type)
                    .containsExactly(OptionReplyType.SERVER, OptionReplyType.ACK);
            client.option(Option.ABORT, new byte[0]);
            assertThat(client.readOptionReply().type()).isEqualTo(OptionReplyType.ACK);
            assertThat(link.closedByServer()).isTrue();
        }
        server.close();
        assertThat(socket).doesNotExist();
    }

    @Test
    void gracefulCloseFinishesClientsThenFlushesAndClosesTheDevices() throws Exception {
        start(List.of(new ListenAddress.Tcp("127.0.0.1", 0)));
        try (SocketLink link = SocketLink.tcp("127.0.0.1", tcpPort())) {
            NbdTestClient client = new NbdTestClient(link);
            client.handshake("disk", false, false);
            client.write(0, 1, 0, new byte[] {1, 2, 3});
            assertThat(client.readSimpleReply()).isEqualTo(new SimpleReplyView(0, 1));
            server.close();
            assertThat(link.closedByServer()).isTrue();
        }
        assertThat(device.closed).isTrue();
        assertThat(device.flushes.get()).isEqualTo(1);
        assertThatThrownBy(() -> SocketLink.tcp("127.0.0.1", tcpPort())).isInstanceOf(IOException.class);
    }

    @Test
    void aFileInTheWayOfTheSocketIsAnError() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-socket"), "x");
        assertThatThrownBy(() -> start(List.of(new ListenAddress.Unix(file))))
                .isInstanceOf(IOException.class).hasMessageContaining("not a socket");
        assertThat(device.closed).as("a failed start closes the exports").isTrue();
        server = null;
    }

    /**
     * Rounds of pipelined writes, trims and zeroes on disjoint random ranges, then pipelined
     * structured reads of the whole device, checked against a plain byte array.
     */
    @Test
    void randomPipelinedOperationsMatchAPlainModel() throws Exception {
        start(List.of(new ListenAddress.Tcp("127.0.0.1", 0)));
        long seed = System.nanoTime();
        Random random = new Random(seed);
        byte[] model = new byte[SIZE];
        int slot = SIZE / 32;
        try (SocketLink link = SocketLink.tcp("127.0.0.1", tcpPort())) {
            NbdTestClient client = new NbdTestClient(link);
            client.handshake("disk", true, true);
            long cookie = 0;
            for (int round = 0; round < 20; round++) {
                int sent = 0;
                for (int s = 0; s < 32; s++) {
                    if (random.nextInt(3) == 0) {
                        continue;
                    }
                    int offset = s * slot + random.nextInt(slot / 2);
                    int length = 1 + random.nextInt(slot / 2);
                    switch (random.nextInt(4)) {
                        case 0 -> client.request(0, Command.TRIM, ++cookie, offset, length);
                        case 1 -> client.request(random.nextBoolean() ? CommandFlags.NO_HOLE : 0,
                                Command.WRITE_ZEROES, ++cookie, offset, length);
                        default -> {
                            byte[] data = new byte[length];
                            random.nextBytes(data);
                            System.arraycopy(data, 0, model, offset, length);
                            client.write(random.nextBoolean() ? CommandFlags.FUA : 0, ++cookie, offset, data);
                            sent++;
                            continue;
                        }
                    }
                    java.util.Arrays.fill(model, offset, offset + length, (byte) 0);
                    sent++;
                }
                for (int i = 0; i < sent; i++) {
                    assertThat(client.readSimpleReply().error()).as("seed %d", seed).isZero();
                }
            }
            int piece = 1 << 20;
            for (int offset = 0; offset < SIZE; offset += piece) {
                client.request(0, Command.READ, 1_000_000 + offset / piece, offset, piece);
            }
            byte[] read = new byte[SIZE];
            for (int i = 0; i < SIZE / piece; i++) {
                NbdTestClient.ChunkView first = client.readChunk();
                List<NbdTestClient.ChunkView> chunks = new java.util.ArrayList<>(List.of(first));
                while (!chunks.getLast().done()) {
                    NbdTestClient.ChunkView next = client.readChunk();
                    assertThat(next.cookie()).as("chunks of one reply stay together here").isEqualTo(first.cookie());
                    chunks.add(next);
                }
                int offset = (int) (first.cookie() - 1_000_000) * piece;
                System.arraycopy(NbdTestClient.reassemble(chunks, offset, piece), 0, read, offset, piece);
            }
            assertThat(read).as("seed %d", seed).isEqualTo(model);
        }
    }
}
