package io.tidemark.image;

/**
 * What a device can do; the server derives the NBD transmission flags from it.
 *
 * @param readOnly   writes, trims and zeroes are refused
 * @param trim       trim releases space (otherwise it is accepted and ignored)
 * @param fastZero   zeroing can be done without writing data (hole punching or map updates)
 * @param extents    {@link BlockDevice#extents} reports real holes and zeroes, not one data run
 * @param preferredBlockSize the I/O size that avoids read-modify-write (the cluster size)
 */
public record DeviceCapabilities(
        boolean readOnly, boolean trim, boolean fastZero, boolean extents, int preferredBlockSize) {

    public DeviceCapabilities {
        if (preferredBlockSize <= 0 || Integer.bitCount(preferredBlockSize) != 1) {
            throw new IllegalArgumentException("preferred block size must be a power of two: " + preferredBlockSize);
        }
    }

    public DeviceCapabilities asReadOnly() {
        return new DeviceCapabilities(true, trim, fastZero, extents, preferredBlockSize);
    }
}
