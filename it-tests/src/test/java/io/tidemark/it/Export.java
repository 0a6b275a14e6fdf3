package io.tidemark.it;

import java.nio.file.Path;

/** One export a test server serves: the name clients ask for, the image behind it, and its mode. */
public record Export(String name, Path image, boolean readOnly) {

    public static Export writable(String name, Path image) {
        return new Export(name, image, false);
    }

    public static Export readOnly(String name, Path image) {
        return new Export(name, image, true);
    }

    /** The value of tidemark's {@code --export} option: {@code NAME=PATH[,readonly]}. */
    String tidemarkOption() {
        return name + "=" + image.toAbsolutePath() + (readOnly ? ",readonly" : "");
    }
}
