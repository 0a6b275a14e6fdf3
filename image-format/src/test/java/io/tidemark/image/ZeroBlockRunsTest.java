package io.tidemark.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ZeroBlockRunsTest {

    private static List<String> runs(ByteBuffer buffer, int block) throws IOException {
        List<String> runs = new ArrayList<>();
        ZeroBlockRuns.split(buffer, block, (from, to, zero) -> runs.add((zero ? "zero " : "data ") + from + "-" + to));
        return runs;
    }

    @Test
    void joinsBlocksOfTheSameKind() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(10 * 8);
        buffer.put(3 * 8, (byte) 1).put(4 * 8 + 7, (byte) 1).put(9 * 8, (byte) 1);
        assertThat(runs(buffer, 8)).containsExactly("zero 0-24", "data 24-40", "zero 40-72", "data 72-80");
    }

    @Test
    void aShortLastBlockAndTheLimitCount() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(100);
        buffer.put(98, (byte) 5).put(99, (byte) 6);
        buffer.limit(99);
        assertThat(runs(buffer, 32)).containsExactly("zero 0-96", "data 96-99");
        buffer.limit(98);
        assertThat(runs(buffer, 32)).containsExactly("zero 0-98");
        buffer.limit(0);
        assertThat(runs(buffer, 32)).isEmpty();
    }

    @Test
    void aByteNotOnAWordBoundaryIsData() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        buffer.put(4095, (byte) 1);
        assertThat(runs(buffer, 4096)).containsExactly("data 0-4096");
    }
}
