package io.tidemark.image;

import java.io.IOException;

/** A write needed space that the quota or the host filesystem does not have (NBD ENOSPC). */
public class NoSpaceException extends IOException {
    public NoSpaceException(String message) {
        super(message);
    }

    public NoSpaceException(String message, Throwable cause) {
        super(message, cause);
    }
}
