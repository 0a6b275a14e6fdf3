package io.tidemark.image.thin;

/** Hears how far a long operation got, for a progress display. */
@FunctionalInterface
public interface ProgressListener {

    void progress(long done, long total);

    ProgressListener NONE = (done, total) -> { };
}
