package io.tidemark.it.hardening;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A client that speaks the option phase in the clear and shows the raw replies, to check
 * exactly what a TLS-requiring server answers (libnbd hides the reply codes).
 */
final class PlainOptionClient implements AutoCloseable {

    static final long IHAVEOPT = 0x49484156454f5054L;
    static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;

    record OptionReply(int option, int type, String text) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    PlainOptionClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
        in.readFully(new byte[18]); // NBDMAGIC, IHAVEOPT, handshake flags
        out.writeInt(3); // fixed newstyle, no zeroes
    }

    /** Connects without reading the greeting, for a server that may refuse the connection. */
    PlainOptionClient(int port, boolean readGreeting) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /**
     * NBD_OPT_GO for {@code export}: reads the replies up to the final one and returns it (ACK:
     * the connection is now in transmission).
     */
    OptionReply go(String export) throws IOException {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        byte[] data = new byte[4 + name.length + 2];
        java.nio.ByteBuffer.wrap(data).putInt(name.length).put(name).putShort((short) 0);
        send(7, data);
        while (true) {
            OptionReply reply = reply();
            if (reply.type() != 3) { // NBD_REP_INFO comes before the final reply
                return reply;
            }
        }
    }

    void send(int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptionReply reply() throws IOException {
        long magic = in.readLong();
        if (magic != OPTION_REPLY_MAGIC) {
            throw new IOException("bad option reply magic 0x" + Long.toHexString(magic));
        }
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, new String(data, StandardCharsets.UTF_8));
    }

    /** True when the server has closed the connection (end of stream). */
    boolean closedByServer() throws IOException {
        try {
            in.readByte();
            return false;
        } catch (EOFException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
