package io.tidemark.server.nbd;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** A real socket to a running server, for {@link NbdTestClient}. */
final class SocketLink implements NbdTestClient.Link, AutoCloseable {

    private final java.io.Closeable socket;
    private final DataInputStream in;
    private final OutputStream out;

    private SocketLink(java.io.Closeable socket, java.io.InputStream in, OutputStream out) {
        this.socket = socket;
        this.in = new DataInputStream(in);
        this.out = out;
    }

    static SocketLink tcp(String host, int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(host, port), 5000);
        s.setSoTimeout(10_000);
        return new SocketLink(s, s.getInputStream(), s.getOutputStream());
    }

    static SocketLink unix(Path path) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(path));
        return new SocketLink(ch, Channels.newInputStream(ch), Channels.newOutputStream(ch));
    }

    @Override
    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    @Override
    public byte[] read(int length) throws IOException {
        byte[] b = new byte[length];
        in.readFully(b);
        return b;
    }

    /** True when the server closed the connection: the next read sees end of stream. */
    boolean closedByServer() throws IOException {
        return in.read() < 0;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
