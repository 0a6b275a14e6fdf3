package io.tidemark.server.protocol;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/** Remembers the buffers it hands out, so tests can check sizes and that each was released. */
public final class TrackingAllocator extends AbstractByteBufAllocator {

    public final List<ByteBuf> made = new ArrayList<>();
    /** Direct buffers still to hand out before the next request fails as direct memory running out would. */
    private int directLeft = Integer.MAX_VALUE;

    public TrackingAllocator() {
        super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(Unpooled.buffer(initialCapacity, maxCapacity));
    }

    /** Hands out {@code count} more direct buffers, then throws {@link OutOfMemoryError} for each request. */
    public TrackingAllocator failDirectAfter(int count) {
        directLeft = count;
        return this;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        if (directLeft == 0) {
            throw new OutOfMemoryError("direct memory exhausted (test allocator)");
        }
        directLeft--;
        return track(Unpooled.directBuffer(initialCapacity, maxCapacity));
    }

    private ByteBuf track(ByteBuf b) {
        made.add(b);
        return b;
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** Buffers handed out and not yet released, described for an assertion message. */
    public List<String> unreleased() {
        List<String> leaks = new ArrayList<>();
        for (ByteBuf buf : made) {
            if (buf.refCnt() != 0) {
                leaks.add("buffer of capacity " + buf.capacity() + " with refCnt " + buf.refCnt());
            }
        }
        return leaks;
    }
}
