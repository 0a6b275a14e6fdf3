package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * The receive-buffer allocator of one connection: while its {@link RequestDecoder} waits for the
 * rest of a large WRITE payload, the socket reads straight into the payload's buffer, so those
 * bytes are never copied out of a receive buffer again (nbdkit recv()s into its buffer the same
 * way). Otherwise it allocates as the allocator it wraps. One instance per connection: the handle
 * a channel takes from it is cached for the channel's life, so the decoder attaches itself here
 * when the transmission phase begins.
 */
public final class PayloadLandingAllocator implements RecvByteBufAllocator {

    private final RecvByteBufAllocator delegate;
    /** The decoder whose payload the next read may land in, or null. Event-loop confined. */
    private RequestDecoder decoder;

    /** @param delegate the allocator for every read that is not payload */
    public PayloadLandingAllocator(RecvByteBufAllocator delegate) {
        this.delegate = delegate;
    }

    void attach(RequestDecoder decoder) {
        this.decoder = decoder;
    }

    void detach(RequestDecoder decoder) {
        if (this.decoder == decoder) {
            this.decoder = null;
        }
    }

    @Override
    public Handle newHandle() {
        return new LandingHandle((ExtendedHandle) delegate.newHandle());
    }

    /** The wrapped handle with one change: {@link #allocate} offers the payload's free space first. */
    private final class LandingHandle extends DelegatingHandle implements ExtendedHandle {

        LandingHandle(ExtendedHandle inner) {
            super(inner);
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            RequestDecoder target = decoder;
            ByteBuf landing = target == null ? null : target.payloadLanding();
            return landing != null ? landing : delegate().allocate(alloc);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
        }
    }
}
