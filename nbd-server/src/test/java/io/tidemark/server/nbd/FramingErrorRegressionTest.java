package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.Wire;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Found by {@code RequestDecoderFuzzTest} (a leaked buffer): after a framing error the decoders
 * went on decoding the bytes behind the bad header when the channel closed, so a WRITE that
 * arrived in the same read as a bad magic still reached the disk. Bytes after a framing error
 * must be dropped.
 */
class FramingErrorRegressionTest {

    private final MemoryDevice device = new MemoryDevice(1 << 20);
    private final EmbeddedConnection connection = new EmbeddedConnection(new Export("disk", "", device));

    @AfterEach
    void release() {
        connection.channel.finishAndReleaseAll();
    }

    @Test
    void writeBehindABadRequestMagicIsNotExecuted() throws Exception {
        connection.client().handshake("disk", false, false);
        byte[] data = new byte[512];
        Arrays.fill(data, (byte) 0x5a);
        connection.send(Wire.of()
                .u32(0x12345678) // a bad magic: the decoder stops after these four bytes
                .request(0, Command.WRITE, 2, 0, data.length).bytes(data)
                .toArray());

        assertThat(connection.channel.isOpen()).isFalse();
        assertThat(device.bytes(0, 512)).as("disk after the connection was dropped").containsOnly(0);
    }

    @Test
    void optionBehindABadOptionMagicIsNotAnswered() throws Exception {
        NbdTestClient client = connection.client();
        client.greeting();
        client.clientFlags(3);
        connection.pendingBytes();
        connection.send(Wire.of()
                .u64(0x1122334455667788L) // a bad magic: the decoder stops after these eight bytes
                .option(Option.LIST, new byte[0])
                .toArray());

        assertThat(connection.channel.isOpen()).isFalse();
        assertThat(connection.pendingBytes()).as("bytes answered after the framing error").isZero();
    }
}
