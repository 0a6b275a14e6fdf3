package io.tidemark.image;

/** A run of the device with one allocation state; see {@link BlockDevice#extents}. */
public record Extent(long offset, long length, ExtentType type) {

    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad extent " + offset + "+" + length);
        }
    }

    public long end() {
        return offset + length;
    }
}
