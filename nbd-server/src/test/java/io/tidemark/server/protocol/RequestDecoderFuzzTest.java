package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tidemark.server.protocol.NbdProtocol.Command;

/**
 * Coverage-guided fuzzing of the transmission-phase request decoder: any byte stream yields
 * requests or a framing error, the same at every split, WRITE payloads exactly as long as the
 * header says (or absent when over the limit), and no buffer leaks. Seeds live in
 * {@code RequestDecoderFuzzTestInputs/}; see docs/fuzzing.md for long runs.
 */
class RequestDecoderFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void decodesAnyInputTheSameWayAtEverySplit(FuzzedDataProvider data) {
        int[] cuts = data.consumeInts(data.consumeInt(0, 8));
        byte[] input = data.consumeRemainingAsBytes();

        ChunkedDecoding.Outcome whole = ChunkedDecoding.decode(RequestDecoder::new, input);
        assertThat(ChunkedDecoding.decode(RequestDecoder::new, input, cuts)).isEqualTo(whole);
        if (input.length <= 512) {
            assertThat(ChunkedDecoding.decode(RequestDecoder::new, input, ChunkedDecoding.everyByte(input.length)))
                    .isEqualTo(whole);
        }
        long consumed = 0;
        for (Object record : whole.records()) {
            Request r = (Request) record;
            consumed += ProtocolLimits.REQUEST_HEADER_LENGTH;
            if (r.command() == Command.WRITE) {
                consumed += r.length();
                if (r.length() <= ProtocolLimits.MAX_PAYLOAD) {
                    assertThat(r.payload()).isNotNull();
                    assertThat((long) r.payload().readableBytes()).isEqualTo(r.length());
                } else {
                    assertThat(r.payload()).isNull();
                }
            } else {
                assertThat(r.payload()).isNull();
            }
        }
        assertThat(consumed).as("bytes accounted for by the decoded requests").isLessThanOrEqualTo(input.length);
    }
}
