package io.tidemark.server.cli.image;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code -U} / {@code --force-share} of the read-only image tools, as in qemu-img: open the image
 * without its lock, so that an image a server holds open can be inspected, and say on stderr that
 * the results may be inconsistent.
 */
final class ForceShare {

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-U", "--force-share"},
            description = "open without the image's lock, e.g. while a server holds it open; results may be inconsistent")
    boolean enabled;

    /** Opens a raw file as asked, or read-only without its lock when the option was given. */
    RawFileDevice openRaw(Path path, boolean readOnly) throws IOException {
        return requested(path) ? RawFileDevice.openForceShare(path) : RawFileDevice.open(path, readOnly);
    }

    /** Opens a thin image read-only, without its lock when the option was given. */
    ThinImage openThin(Path path) throws IOException {
        return requested(path) ? ThinImage.openForceShare(path) : ThinImage.open(path, true, AllocationListener.NONE);
    }

    /** Whether the option was given; warns on stderr when it was. */
    boolean requested(Path path) {
        if (enabled) {
            spec.commandLine().getErr().println("warning: " + path + ": opened without its lock (--force-share);"
                    + " if a server is writing it, the results may be inconsistent");
        }
        return enabled;
    }
}
