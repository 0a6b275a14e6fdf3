package io.tidemark.image.thin;

/**
 * One finding of {@link ImageChecker}: corruption, or leaked space, at a physical offset.
 *
 * @param offset file offset of the faulty structure or the leaked range
 * @param length bytes concerned (the leaked length; the structure's size for corruption)
 */
public record ImageProblem(Kind kind, long offset, long length, String message) {

    public enum Kind {
        /** The image breaks an invariant of the format. */
        CORRUPTION,
        /** Space nothing references; harmless, reclaimed by repair or compaction. */
        LEAK
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " at offset " + offset + " (+" + length + "): " + message;
    }
}
