package io.tidemark.image;

import java.io.IOException;

/** A fast zero was asked for a range the device can only zero by writing data (NBD ENOTSUP). */
public class FastZeroUnsupportedException extends IOException {
    public FastZeroUnsupportedException(String message) {
        super(message);
    }
}
