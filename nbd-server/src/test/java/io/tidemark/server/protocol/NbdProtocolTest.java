package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;
import org.junit.jupiter.api.Test;

class NbdProtocolTest {

    @Test
    void namesKnownValuesAndShowsUnknownOnesInHex() {
        assertThat(Option.name(7)).isEqualTo("NBD_OPT_GO");
        assertThat(Option.name(0x2a)).isEqualTo("unknown (0x2a)");
        assertThat(Command.name(7)).isEqualTo("NBD_CMD_BLOCK_STATUS");
        assertThat(OptionReplyType.name(0x80000006)).isEqualTo("NBD_REP_ERR_UNKNOWN");
        assertThat(OptionReplyType.name(0x8000000a)).isEqualTo("NBD_REP_ERR_EXT_HEADER_REQD");
        assertThat(NbdProtocol.ReplyChunk.name(6)).isEqualTo("NBD_REPLY_TYPE_BLOCK_STATUS_EXT");
        assertThat(Option.name(11)).isEqualTo("NBD_OPT_EXTENDED_HEADERS");
        assertThat(NbdProtocol.Error.name(95)).isEqualTo("ENOTSUP");
        assertThat(TransmissionFlags.describe(0x0103)).isEqualTo("HAS_FLAGS|READ_ONLY|CAN_MULTI_CONN");
        assertThat(TransmissionFlags.describe(0x8000)).isEqualTo("unknown (0x8000)");
    }
}
