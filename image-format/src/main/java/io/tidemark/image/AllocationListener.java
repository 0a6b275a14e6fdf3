package io.tidemark.image;

import java.io.IOException;

/**
 * Hears about physical space as a device takes it. The threshold module implements it.
 *
 * <p>{@link #reserve} runs before the device grows its backing file, on the writer's thread, and
 * may refuse (quota with ENOSPC) or wait (quota with pause); {@link #tryReserve} is its variant
 * that never waits. {@link #allocated} runs after the map
 * update that makes the new extent real; it must be cheap and never block, since it is on the
 * write path.
 */
public interface AllocationListener {

    /**
     * Called before the physical high-water mark grows to {@code newUsage}.
     *
     * @throws NoSpaceException to refuse the allocation; the write then fails with ENOSPC and the
     *     device is unchanged
     */
    default void reserve(long newUsage) throws IOException {
    }

    /**
     * As {@link #reserve}, for a caller that must not wait: returns false, reserving nothing, where
     * {@link #reserve} would wait. The default calls {@link #reserve}; a listener whose reserve may
     * wait overrides this.
     *
     * @throws NoSpaceException to refuse the allocation, as {@link #reserve} would
     */
    default boolean tryReserve(long newUsage) throws IOException {
        reserve(newUsage);
        return true;
    }

    /**
     * Called after a newly allocated physical extent {@code [offset, offset + length)} became
     * part of the device, with the usage (physical high-water mark) it left.
     */
    void allocated(long offset, long length, long usage);

    AllocationListener NONE = (offset, length, usage) -> { };
}
