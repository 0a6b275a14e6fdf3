package io.tidemark.server.nbd;

import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.FileSegment;
import java.io.IOException;
import java.util.Optional;

/**
 * Turns READ ranges that the device stores contiguously and uncompressed in a file into Netty file
 * regions, which the epoll transport sends with sendfile and NIO with {@code transferTo}: the
 * bytes go from the page cache to the socket without passing through a buffer of ours. Off on a
 * TLS connection ({@code SslHandler} encrypts buffers and cannot take a file region) and for reads
 * shorter than {@link #MINIMUM}, where the buffer path is as fast.
 */
final class ZeroCopyReads {

    /** Shorter reads go through a buffer: sendfile's setup costs more than copying a few KiB. */
    static final int MINIMUM = 64 * 1024;

    private final BlockDevice device;
    private final boolean enabled;

    ZeroCopyReads(BlockDevice device, boolean enabled) {
        this.device = device;
        this.enabled = enabled;
    }

    /** The region to send for {@code [offset, offset + length)}; empty when it must be read into a buffer. */
    Optional<FileRegion> region(long offset, int length) throws IOException {
        if (!enabled || length < MINIMUM) {
            return Optional.empty();
        }
        return device.contiguousData(offset, length).map(SegmentRegion::new);
    }

    /**
     * A file region over the device's own channel: when the socket is done with it, the segment is
     * released (the device may then reuse the space) and the channel, which the device owns, stays
     * open, where {@link DefaultFileRegion} would close it.
     */
    private static final class SegmentRegion extends DefaultFileRegion {

        private final FileSegment segment;

        SegmentRegion(FileSegment segment) {
            super(segment.channel(), segment.position(), segment.length());
            this.segment = segment;
        }

        @Override
        protected void deallocate() {
            segment.release();
        }
    }
}
