package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.image.AllocationListener;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Which space the allocator vouches for as reading zeroes on the host. */
class SpaceAllocatorTest {

    private static final long CLUSTER = 65536;

    @Test
    void spaceBeyondTheFileReadsZeroButALeakedTailDoesNot() throws IOException {
        // Referenced space ends at 3 clusters; the file holds 2 more clusters of leaked bytes.
        SpaceAllocator allocator = new SpaceAllocator(3 * CLUSTER, 5 * CLUSTER);
        assertThat(allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(3 * CLUSTER, false));
        assertThat(allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(4 * CLUSTER, false));
        assertThat(allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(5 * CLUSTER, true));
    }

    @Test
    void freedSpaceReadsZeroOnlyWhenPunched() throws IOException {
        SpaceAllocator allocator = new SpaceAllocator(10 * CLUSTER, 10 * CLUSTER);
        allocator.makeFree(2 * CLUSTER, CLUSTER, false);
        allocator.makeFree(4 * CLUSTER, CLUSTER, true);
        assertThat(allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(2 * CLUSTER, false));
        assertThat(allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(4 * CLUSTER, true));
    }

    @Test
    void spaceGivenBackAfterAFailedWriteNoLongerReadsZero() throws IOException {
        SpaceAllocator allocator = new SpaceAllocator(CLUSTER, CLUSTER);
        SpaceAllocator.Allocation first = allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE);
        assertThat(first.readsZero()).isTrue();
        allocator.releaseUnused(first.offset(), CLUSTER);
        assertThat(allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(first.offset(), false));
    }

    @Test
    void piecesOfAPunchedRangeStayZeroAndAlignmentGapsBeyondTheFileToo() throws IOException {
        SpaceAllocator allocator = new SpaceAllocator(4 * CLUSTER, 4 * CLUSTER);
        allocator.makeFree(CLUSTER, CLUSTER, true);
        assertThat(allocator.allocate(1024, 512, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(CLUSTER, true));
        assertThat(allocator.allocate(CLUSTER - 1024, 512, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(CLUSTER + 1024, true));
        // A compressed block at the end leaves a gap before the next cluster-aligned append.
        assertThat(allocator.allocate(512, 512, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(4 * CLUSTER, true));
        assertThat(allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(5 * CLUSTER, true));
        assertThat(allocator.allocate(CLUSTER - 512, 512, AllocationListener.NONE))
                .isEqualTo(new SpaceAllocator.Allocation(4 * CLUSTER + 512, true));
    }

    @Test
    void usageIsTheHighWaterMark() throws IOException {
        SpaceAllocator allocator = new SpaceAllocator(2 * CLUSTER, 2 * CLUSTER);
        allocator.allocate(CLUSTER, CLUSTER, AllocationListener.NONE);
        allocator.release(2 * CLUSTER, CLUSTER);
        allocator.makeFree(2 * CLUSTER, CLUSTER, true);
        assertThat(allocator.usage()).isEqualTo(3 * CLUSTER);
        assertThat(allocator.lastUsedEnd()).isEqualTo(2 * CLUSTER);
    }
}
