package io.tidemark.server.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * One server connection in an {@link EmbeddedChannel}, with disk I/O on an executor the test
 * controls: run inline, or queued so the test picks the order in which requests finish.
 */
final class EmbeddedConnection implements NbdTestClient.Link {

    final EmbeddedChannel channel;
    final ShutdownSignal shutdown = new ShutdownSignal();
    private final ByteBuf received = Unpooled.buffer();
    private final ArrayDeque<Runnable> queuedIo = new ArrayDeque<>();
    private boolean queueIo;

    EmbeddedConnection(ExportRegistry exports, ConnectionLimits limits) {
        this(exports, limits, InFlightMemory.unlimited(), ClientPolicy.OPEN);
    }

    /** One of several connections that share a server-wide {@code memory} budget. */
    EmbeddedConnection(ExportRegistry exports, ConnectionLimits limits, InFlightMemory memory) {
        this(exports, limits, memory, ClientPolicy.OPEN);
    }

    /** A connection held to {@code policy} (TLS, allow-lists), without connection limits. */
    EmbeddedConnection(ClientPolicy policy, Export... exports) {
        this(new ExportRegistry(List.of(exports)), ConnectionLimits.DEFAULT, InFlightMemory.unlimited(), policy);
    }

    private EmbeddedConnection(ExportRegistry exports, ConnectionLimits limits, InFlightMemory memory,
            ClientPolicy policy) {
        Executor io = task -> {
            if (queueIo) {
                queuedIo.add(task);
            } else {
                task.run();
            }
        };
        ServerContext context = new ServerContext(exports, DiskExecutors.shared(io), shutdown, limits, memory);
        channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServer.initConnection(ch.pipeline(), context, policy, null);
            }
        });
    }

    EmbeddedConnection(Export... exports) {
        this(new ExportRegistry(List.of(exports)), ConnectionLimits.DEFAULT);
    }

    NbdTestClient client() {
        return new NbdTestClient(this);
    }

    /** From now on disk I/O waits until {@link #runQueuedIo} runs it. */
    void queueIo() {
        queueIo = true;
    }

    int queuedIoCount() {
        return queuedIo.size();
    }

    /** Runs the queued task at {@code index} (0 = oldest). */
    void runQueuedIo(int index) {
        Runnable task = List.copyOf(queuedIo).get(index);
        queuedIo.remove(task);
        task.run();
        channel.runPendingTasks();
    }

    @Override
    public void send(byte[] bytes) {
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        channel.runPendingTasks();
    }

    @Override
    public byte[] read(int length) throws IOException {
        channel.runPendingTasks();
        for (ByteBuf b; received.readableBytes() < length && (b = channel.readOutbound()) != null; ) {
            received.writeBytes(b);
            b.release();
        }
        if (received.readableBytes() < length) {
            throw new IOException("wanted " + length + " bytes from the server, it sent " + received.readableBytes());
        }
        byte[] out = new byte[length];
        received.readBytes(out);
        received.discardReadBytes();
        return out;
    }

    /** Bytes the server sent that no read took yet. */
    int pendingBytes() {
        channel.runPendingTasks();
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            received.writeBytes(b);
            b.release();
        }
        return received.readableBytes();
    }
}
