package io.tidemark.image;

/** Allocation state of a range, mirroring NBD's base:allocation context. */
public enum ExtentType {
    /** Holds data that may be non-zero. */
    DATA,
    /** Allocated (or pre-zeroed) but reads as zeroes. */
    ZERO,
    /** Unallocated: takes no space and reads as zeroes. */
    HOLE;

    public boolean readsAsZero() {
        return this != DATA;
    }
}
