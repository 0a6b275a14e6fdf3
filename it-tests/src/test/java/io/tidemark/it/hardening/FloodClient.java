package io.tidemark.it.hardening;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A hostile client: negotiates with NBD_OPT_EXPORT_NAME, then sends maximal requests (32 MiB
 * READs, or 32 MiB WRITEs with their payload) as fast as the server takes them and never reads
 * a reply. Non-blocking, so the test thread can drive many of them and stop when it likes.
 */
final class FloodClient implements AutoCloseable {

    static final int MAX_PAYLOAD = 32 * 1024 * 1024;
    private static final long IHAVEOPT = 0x49484156454f5054L;
    private static final int REQUEST_MAGIC = 0x25609513;
    private static final int OPT_EXPORT_NAME = 1;
    private static final int CMD_READ = 0;
    private static final int CMD_WRITE = 1;
    /** Client flags: fixed newstyle, no zeroes. */
    private static final int CLIENT_FLAGS = 3;

    private final SocketChannel channel;
    private final boolean writes;
    private final ByteBuffer pending;
    private final ByteBuffer payload = ByteBuffer.allocateDirect(1024 * 1024);
    private long payloadLeft;
    private long cookie;
    private long requestsSent;

    private FloodClient(SocketChannel channel, boolean writes) {
        this.channel = channel;
        this.writes = writes;
        this.pending = ByteBuffer.allocate(28).flip();
    }

    /** Connects and negotiates (blocking), then switches to non-blocking flooding. */
    static FloodClient connect(String uri, boolean writes) throws IOException {
        URI u = URI.create(uri);
        SocketChannel channel = SocketChannel.open(new InetSocketAddress(u.getHost(), u.getPort()));
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
        readFully(channel, 18); // NBDMAGIC, IHAVEOPT, handshake flags
        byte[] name = u.getPath().substring(1).getBytes(StandardCharsets.UTF_8);
        ByteBuffer hello = ByteBuffer.allocate(4 + 16 + name.length);
        hello.putInt(CLIENT_FLAGS).putLong(IHAVEOPT).putInt(OPT_EXPORT_NAME).putInt(name.length).put(name).flip();
        while (hello.hasRemaining()) {
            channel.write(hello);
        }
        readFully(channel, 10); // export size and transmission flags (no zeroes)
        channel.configureBlocking(false);
        return new FloodClient(channel, writes);
    }

    private static void readFully(SocketChannel channel, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (channel.read(buf) < 0) {
                throw new IOException("server closed during the handshake");
            }
        }
    }

    /** Sends as much as the socket takes now; returns false when the server closed the connection. */
    boolean push() {
        try {
            while (true) {
                if (pending.hasRemaining()) {
                    if (channel.write(pending) == 0) {
                        return true;
                    }
                } else if (payloadLeft > 0) {
                    payload.clear().limit((int) Math.min(payload.capacity(), payloadLeft));
                    int n = channel.write(payload);
                    if (n == 0) {
                        return true;
                    }
                    payloadLeft -= n;
                } else {
                    nextRequest();
                }
            }
        } catch (IOException e) {
            return false;
        }
    }

    private void nextRequest() {
        pending.clear();
        pending.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) (writes ? CMD_WRITE : CMD_READ))
                .putLong(++cookie).putLong(0).putInt(MAX_PAYLOAD).flip();
        payloadLeft = writes ? MAX_PAYLOAD : 0;
        requestsSent++;
    }

    long requestsSent() {
        return requestsSent;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
