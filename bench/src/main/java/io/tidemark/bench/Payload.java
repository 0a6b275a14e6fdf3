package io.tidemark.bench;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/** Direct buffers of incompressible bytes, as the server hands them to a device. */
final class Payload {

    private Payload() {
    }

    static ByteBuffer random(int size, long seed) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(size);
        SplittableRandom random = new SplittableRandom(seed);
        while (buffer.remaining() >= Long.BYTES) {
            buffer.putLong(random.nextLong());
        }
        return buffer.flip();
    }
}
