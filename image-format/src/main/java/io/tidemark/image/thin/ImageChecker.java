package io.tidemark.image.thin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code tidemark image check}: verifies every invariant of {@code docs/image-format.md} without
 * writing, and on request repairs what can be repaired without guessing.
 *
 * <p>Leaks (unreferenced space in a dirty image, space after the last referenced byte) are
 * repaired by a clean commit and truncation. Entries whose data is unreachable (past EOF,
 * misaligned, undecodable compressed blocks) are dropped so they read as zeroes. Guest clusters
 * that share physical space get private copies. Bad headers and bad table checksums are not
 * repaired: the result then still reports them and exits 2.
 */
public final class ImageChecker {

    private ImageChecker() {
    }

    /** Checks an image opened read-only under a shared lock. */
    public static CheckResult check(Path path) throws IOException {
        return check(path, ProgressListener.NONE);
    }

    /** Checks, reporting progress in L2 tables read (compressed blocks are decompressed on the way). */
    public static CheckResult check(Path path, ProgressListener progress) throws IOException {
        try (ImageFile file = ChannelImageFile.open(path, true)) {
            return check(file, progress);
        }
    }

    /**
     * Checks an image without taking its lock (force-share), for an image a server holds open: the
     * result may show corruption or leaks that are only the writer's work in progress.
     */
    public static CheckResult checkForceShare(Path path, ProgressListener progress) throws IOException {
        try (ImageFile file = ChannelImageFile.openUnlocked(path)) {
            return check(file, progress);
        }
    }

    /**
     * Repairs an image under an exclusive lock and checks it again. The result holds the state
     * after the repair and the list of repairs made.
     */
    public static CheckResult repair(Path path) throws IOException {
        List<String> repairs;
        ImageFile file = ChannelImageFile.open(path, false);
        try {
            repairs = repair(file);
        } finally {
            file.close();
        }
        return check(path).withRepairs(repairs);
    }

    static CheckResult check(ImageFile file) throws IOException {
        return check(file, ProgressListener.NONE);
    }

    static CheckResult check(ImageFile file, ProgressListener progress) throws IOException {
        ImageLoader.Loaded loaded;
        try {
            loaded = ImageLoader.load(file, ImageLoader.Mode.CHECK, progress);
        } catch (CorruptImageException e) {
            return new CheckResult(List.of(new ImageProblem(ImageProblem.Kind.CORRUPTION, e.offset(), 0, e.getMessage())),
                    List.of(), List.of());
        }
        List<ImageProblem> leaks = new ArrayList<>();
        if (loaded.header().dirty()) {
            for (long[] range : loaded.free()) {
                leaks.add(new ImageProblem(ImageProblem.Kind.LEAK, range[0], range[1],
                        "unreferenced space in an image that was not closed cleanly"));
            }
        }
        if (loaded.fileSize() > loaded.lastUsedEnd()) {
            leaks.add(new ImageProblem(ImageProblem.Kind.LEAK, loaded.lastUsedEnd(),
                    loaded.fileSize() - loaded.lastUsedEnd(), "unreferenced space after the last used byte"));
        }
        return new CheckResult(loaded.corruptions(), leaks, List.of());
    }

    /**
     * Repairs through a normal commit, so a crash during repair leaves either the old or the
     * repaired image. Closes {@code file}. Returns what was done.
     */
    static List<String> repair(ImageFile file) throws IOException {
        CheckResult before = check(file);
        if (before.isClean()) {
            file.close();
            return List.of();
        }
        ImageLoader.Loaded loaded;
        try {
            loaded = ImageLoader.load(file, ImageLoader.Mode.CHECK);
        } catch (CorruptImageException e) {
            file.close();
            return List.of("not repaired: " + e.getMessage());
        }
        if (loaded.unrepairable()) {
            file.close();
            return List.of("not repaired: a table checksum or L1 entry is bad; that needs a human");
        }
        List<String> repairs = new ArrayList<>();
        for (ImageProblem problem : loaded.corruptions()) {
            if (loaded.overlaps().isEmpty() || !problem.message().contains("referenced more than once")) {
                repairs.add("dropped entry at offset " + problem.offset() + ": " + problem.message());
            }
        }
        try (ThinImage image = ThinImage.openLoaded(file, loaded)) {
            for (long[] stored : image.storedClusters()) {
                if (intersectsAny(stored[1], stored[2], loaded.overlaps())) {
                    image.relocate(stored[0], false);
                    repairs.add("gave guest offset " + stored[0] * image.clusterSize()
                            + " a private copy of shared range " + stored[1] + "+" + stored[2]);
                }
            }
            if (!loaded.corruptions().isEmpty()) {
                // Dropped entries and moved clusters live in the tables: write them all afresh.
                image.rewriteAllTables();
            }
            image.releaseFreeSpace();
            if (!before.leaks().isEmpty()) {
                repairs.add("reclaimed " + before.leakedBytes() + " leaked bytes");
            }
        }
        return repairs;
    }

    private static boolean intersectsAny(long offset, long length, List<long[]> ranges) {
        for (long[] r : ranges) {
            if (offset < r[0] + r[1] && r[0] < offset + length) {
                return true;
            }
        }
        return false;
    }
}
