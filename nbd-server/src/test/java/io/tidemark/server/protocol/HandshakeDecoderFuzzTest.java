package io.tidemark.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the client side of the handshake. Whatever a client sends, the
 * decoder produces records within the protocol limits or a framing error, the same however
 * the bytes are split, and releases everything. Seeds live in
 * {@code HandshakeDecoderFuzzTestInputs/}; see docs/fuzzing.md for long runs.
 */
class HandshakeDecoderFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void decodesAnyInputTheSameWayAtEverySplit(FuzzedDataProvider data) {
        int[] cuts = data.consumeInts(data.consumeInt(0, 8));
        byte[] input = data.consumeRemainingAsBytes();

        ChunkedDecoding.Outcome whole = ChunkedDecoding.decode(HandshakeDecoder::new, input);
        assertThat(ChunkedDecoding.decode(HandshakeDecoder::new, input, cuts)).isEqualTo(whole);
        if (input.length <= 512) {
            assertThat(ChunkedDecoding.decode(HandshakeDecoder::new, input, ChunkedDecoding.everyByte(input.length)))
                    .isEqualTo(whole);
        }
        whole.records().forEach(HandshakeDecoderFuzzTest::assertWithinLimits);
    }

    /** Nothing the decoder emits may exceed what {@link ProtocolLimits} promises. */
    private static void assertWithinLimits(Object record) {
        switch (record) {
            case ClientFlags flags -> {
            }
            case OptionRequest.ExportName o -> assertThat(o.name().length()).isLessThanOrEqualTo(ProtocolLimits.MAX_STRING);
            case OptionRequest.Info o -> {
                assertThat(o.name().length()).isLessThanOrEqualTo(ProtocolLimits.MAX_STRING);
                assertThat(o.requests()).hasSizeLessThanOrEqualTo(ProtocolLimits.MAX_INFO_REQUESTS);
            }
            case OptionRequest.MetaContext o -> {
                assertThat(o.exportName().length()).isLessThanOrEqualTo(ProtocolLimits.MAX_STRING);
                assertThat(o.queries()).hasSizeLessThanOrEqualTo(ProtocolLimits.MAX_META_CONTEXT_QUERIES)
                        .allSatisfy(q -> assertThat(q.length()).isLessThanOrEqualTo(ProtocolLimits.MAX_STRING));
            }
            case OptionRequest.Oversized o -> assertThat(o.length()).isGreaterThan(ProtocolLimits.MAX_OPTION_DATA);
            case OptionRequest.Malformed o -> assertThat(o.reason()).isNotBlank();
            case OptionRequest o -> {
            }
            default -> throw new AssertionError("handshake decoder emitted " + record);
        }
    }
}
