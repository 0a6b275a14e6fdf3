package io.tidemark.image.thin;

import java.util.List;

/**
 * What {@link ImageChecker} found, and after a repair what it did.
 *
 * @param corruptions broken invariants, each with its file offset
 * @param leaks       unreferenced ranges of the file, each with offset and length
 * @param repairs     what a repair changed, in order (empty for a plain check)
 */
public record CheckResult(List<ImageProblem> corruptions, List<ImageProblem> leaks, List<String> repairs) {

    public static final int EXIT_CLEAN = 0;
    public static final int EXIT_CORRUPT = 2;
    public static final int EXIT_LEAKS = 3;

    public CheckResult {
        corruptions = List.copyOf(corruptions);
        leaks = List.copyOf(leaks);
        repairs = List.copyOf(repairs);
    }

    public boolean isClean() {
        return corruptions.isEmpty() && leaks.isEmpty();
    }

    public long leakedBytes() {
        return leaks.stream().mapToLong(ImageProblem::length).sum();
    }

    /** The qemu-img convention: 0 clean, 2 corrupt, 3 leaks only. */
    public int exitCode() {
        if (!corruptions.isEmpty()) {
            return EXIT_CORRUPT;
        }
        return leaks.isEmpty() ? EXIT_CLEAN : EXIT_LEAKS;
    }

    CheckResult withRepairs(List<String> done) {
        return new CheckResult(corruptions, leaks, done);
    }
}
