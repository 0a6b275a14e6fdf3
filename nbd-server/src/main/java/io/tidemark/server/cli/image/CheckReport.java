package io.tidemark.server.cli.image;

import java.util.List;

/**
 * What {@code image check} found.
 *
 * @param corruptions problems that make data or metadata untrustworthy, each a sentence naming the
 *                    offset and what is wrong
 * @param leaks       ranges of file space that nothing references, described likewise
 * @param leakedBytes the bytes those leaks take
 * @param repaired    whether {@code --repair} changed the file
 */
record CheckReport(
        String filename,
        String format,
        List<String> corruptions,
        List<String> leaks,
        long leakedBytes,
        boolean repaired) {

    /** The exit code, by the qemu-img convention: 0 clean, 2 corrupt, 3 leaks only. */
    int exitCode() {
        if (!corruptions.isEmpty()) {
            return CheckCommand.EXIT_CORRUPT;
        }
        return leaks.isEmpty() ? 0 : CheckCommand.EXIT_LEAKS;
    }
}
