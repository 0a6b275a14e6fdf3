package io.tidemark.server.cli.image;

import io.tidemark.image.thin.CheckResult;
import io.tidemark.image.thin.ImageProblem;
import java.util.List;

/**
 * What {@code image check} found.
 *
 * @param corruptions broken invariants: data or metadata that cannot be trusted
 * @param leaks       ranges of file space that nothing references
 * @param leakedBytes the bytes those leaks take
 * @param repairs     what {@code --repair} changed, in order; the findings are those after it
 */
record CheckReport(
        String filename,
        String format,
        List<Problem> corruptions,
        List<Problem> leaks,
        long leakedBytes,
        List<String> repairs) {

    /** One finding, at a file offset. */
    record Problem(long offset, long length, String message) {
        static Problem of(ImageProblem problem) {
            return new Problem(problem.offset(), problem.length(), problem.message());
        }

        @Override
        public String toString() {
            return "offset " + offset + " (+" + length + "): " + message;
        }
    }

    /** The report of a raw file, which has no metadata to be wrong. */
    static CheckReport ofRaw(String filename) {
        return new CheckReport(filename, FileFormat.RAW.label(), List.of(), List.of(), 0, List.of());
    }

    static CheckReport of(String filename, CheckResult result) {
        return new CheckReport(filename, FileFormat.TIDEMARK.label(),
                result.corruptions().stream().map(Problem::of).toList(),
                result.leaks().stream().map(Problem::of).toList(),
                result.leakedBytes(),
                result.repairs());
    }

    /** The exit code, by the qemu-img convention: 0 clean, 2 corrupt, 3 leaks only. */
    int exitCode() {
        if (!corruptions.isEmpty()) {
            return CheckResult.EXIT_CORRUPT;
        }
        return leaks.isEmpty() ? CheckResult.EXIT_CLEAN : CheckResult.EXIT_LEAKS;
    }
}
