package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal NBD client for tests of the server's wiring: fixed newstyle, NBD_OPT_GO, simple
 * replies, one request at a time. Real clients are exercised in it-tests.
 */
final class NbdTestClient implements AutoCloseable {

    private static final long IHAVEOPT = 0x49484156454F5054L;
    private static final int REQUEST_MAGIC = 0x25609513;
    private static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private long cookie;

    private NbdTestClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects and negotiates {@code export}, leaving the connection in transmission. */
    static NbdTestClient connect(int port, String export) throws IOException {
        NbdTestClient c = new NbdTestClient(new Socket("127.0.0.1", port));
        assertThat(c.in.readLong()).isEqualTo(0x4e42444d41474943L); // NBDMAGIC
        assertThat(c.in.readLong()).isEqualTo(IHAVEOPT);
        c.in.readUnsignedShort();
        c.out.writeInt(3); // FIXED_NEWSTYLE | NO_ZEROES
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        c.out.writeLong(IHAVEOPT);
        c.out.writeInt(7); // NBD_OPT_GO
        c.out.writeInt(4 + name.length + 2);
        c.out.writeInt(name.length);
        c.out.write(name);
        c.out.writeShort(0);
        c.out.flush();
        while (true) {
            assertThat(c.in.readLong()).isEqualTo(0x3e889045565a9L);
            c.in.readInt();
            int type = c.in.readInt();
            c.in.readNBytes(c.in.readInt());
            if (type == 1) { // NBD_REP_ACK
                return c;
            }
            assertThat(type).as("option reply type (negative is an error)").isPositive();
        }
    }

    /** Writes {@code length} bytes of {@code fill} at {@code offset}; returns the NBD error (0 = success). */
    int write(long offset, int length, byte fill) throws IOException {
        byte[] data = new byte[length];
        java.util.Arrays.fill(data, fill);
        long id = ++cookie;
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(1); // NBD_CMD_WRITE
        out.writeLong(id);
        out.writeLong(offset);
        out.writeInt(length);
        out.write(data);
        out.flush();
        assertThat(in.readInt()).isEqualTo(SIMPLE_REPLY_MAGIC);
        int error = in.readInt();
        assertThat(in.readLong()).isEqualTo(id);
        return error;
    }

    /** Sends a write without waiting for its reply (pipelining); {@link #awaitReply} reads one. */
    void sendWrite(long offset, int length, byte fill) throws IOException {
        byte[] data = new byte[length];
        java.util.Arrays.fill(data, fill);
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(1);
        out.writeLong(++cookie);
        out.writeLong(offset);
        out.writeInt(length);
        out.write(data);
        out.flush();
    }

    /** Reads one simple reply, returning its error. */
    int awaitReply() throws IOException {
        assertThat(in.readInt()).isEqualTo(SIMPLE_REPLY_MAGIC);
        int error = in.readInt();
        in.readLong();
        return error;
    }

    @Override
    public void close() throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(2); // NBD_CMD_DISC
        out.writeLong(++cookie);
        out.writeLong(0);
        out.writeInt(0);
        out.flush();
        socket.close();
    }
}
