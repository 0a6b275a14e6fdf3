package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class FileLengthTest {

    private static final int CLUSTER = 4096;
    private static final long STEP = FileLength.STEP_CLUSTERS * CLUSTER;

    @Test
    void growsInStepsAndOnlyWhenNeeded() throws IOException {
        CrashableMemoryFile file = new CrashableMemoryFile();
        file.write(ByteBuffer.wrap(new byte[] {7, 7, 7}), 0);
        FileLength length = new FileLength(file, 3, CLUSTER);
        length.cover(3);
        assertThat(file.size()).isEqualTo(3);
        long operations = file.operations();
        length.cover(5000);
        assertThat(file.size()).isEqualTo(STEP);
        length.cover(STEP);
        assertThat(file.operations()).as("one write per step").isEqualTo(operations + 1);
        length.cover(STEP + 1);
        assertThat(file.size()).isEqualTo(2 * STEP);
        long large = 64 * STEP;
        length.cover(large);
        length.cover(large + 1);
        assertThat(file.size()).as("a long file grows by an eighth of its length").isEqualTo(large + large / 8);
        byte[] contents = file.contents();
        assertThat(contents).startsWith(7, 7, 7);
        for (int i = 3; i < contents.length; i++) {
            assertThat(contents[i]).as("byte %d", i).isZero();
        }
    }
}
