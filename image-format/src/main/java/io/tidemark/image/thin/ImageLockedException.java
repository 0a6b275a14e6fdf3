package io.tidemark.image.thin;

import java.io.IOException;

/** Another process (or another open in this one) holds a conflicting lock on the image. */
public class ImageLockedException extends IOException {
    public ImageLockedException(String message) {
        super(message);
    }
}
