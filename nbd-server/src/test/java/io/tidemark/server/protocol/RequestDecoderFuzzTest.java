package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.channel.ChannelHandler;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.Magic;
import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * Coverage-guided fuzzing of the transmission-phase request decoder: any byte stream yields
 * requests or a framing error, the same at every split, payloads exactly as long as the header
 * says (or absent when over the limit, or on commands that take none), and no buffer leaks.
 * An input that starts with the extended request magic is decoded as after
 * NBD_OPT_EXTENDED_HEADERS, any other compact, so one corpus covers both header styles. Seeds
 * live in {@code RequestDecoderFuzzTestInputs/}; see docs/fuzzing.md for long runs.
 */
class RequestDecoderFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void decodesAnyInputTheSameWayAtEverySplit(FuzzedDataProvider data) {
        int[] cuts = data.consumeInts(data.consumeInt(0, 8));
        byte[] input = data.consumeRemainingAsBytes();
        boolean extended = input.length >= Integer.BYTES && ByteBuffer.wrap(input).getInt() == Magic.EXTENDED_REQUEST;
        Supplier<ChannelHandler> decoder = () -> new RequestDecoder(extended);

        ChunkedDecoding.Outcome whole = ChunkedDecoding.decode(decoder, input);
        assertThat(ChunkedDecoding.decode(decoder, input, cuts)).isEqualTo(whole);
        if (input.length <= 512) {
            assertThat(ChunkedDecoding.decode(decoder, input, ChunkedDecoding.everyByte(input.length)))
                    .isEqualTo(whole);
        }
        long consumed = 0;
        for (Object record : whole.records()) {
            Request r = (Request) record;
            consumed += extended ? accountExtended(r) : accountCompact(r);
        }
        assertThat(consumed).as("bytes accounted for by the decoded requests").isLessThanOrEqualTo(input.length);
    }

    /** Header and payload bytes of a compact request, checking its payload. */
    private static long accountCompact(Request r) {
        if (r.command() != Command.WRITE) {
            assertThat(r.payload()).isNull();
            return ProtocolLimits.REQUEST_HEADER_LENGTH;
        }
        if (r.length() <= ProtocolLimits.MAX_PAYLOAD) {
            assertThat(r.payload()).isNotNull();
            assertThat((long) r.payload().readableBytes()).isEqualTo(r.length());
        } else {
            assertThat(r.payload()).isNull();
        }
        return ProtocolLimits.REQUEST_HEADER_LENGTH + r.length();
    }

    /** Header and payload bytes of an extended request: a payload only with PAYLOAD_LEN, kept only for WRITE. */
    private static long accountExtended(Request r) {
        if (!r.hasFlag(CommandFlags.PAYLOAD_LEN)) {
            assertThat(r.payload()).isNull();
            return ProtocolLimits.EXTENDED_REQUEST_HEADER_LENGTH;
        }
        assertThat(r.length()).as("payload length").isBetween(0L, (long) ProtocolLimits.MAX_PAYLOAD);
        if (r.command() == Command.WRITE) {
            assertThat(r.payload()).isNotNull();
            assertThat((long) r.payload().readableBytes()).isEqualTo(r.length());
        } else {
            assertThat(r.payload()).isNull();
        }
        return ProtocolLimits.EXTENDED_REQUEST_HEADER_LENGTH + r.length();
    }
}
