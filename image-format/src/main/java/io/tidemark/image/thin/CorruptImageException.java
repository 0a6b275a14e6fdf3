package io.tidemark.image.thin;

import java.io.IOException;

/** A thin image that is truncated, corrupt or not a thin image at all; names file, offset and fault. */
public class CorruptImageException extends IOException {

    private final long offset;

    public CorruptImageException(String file, long offset, String what) {
        super(file + ": at offset " + offset + " (0x" + Long.toHexString(offset) + "): " + what);
        this.offset = offset;
    }

    /** The file offset of the faulty structure. */
    public long offset() {
        return offset;
    }
}
