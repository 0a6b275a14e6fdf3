package io.tidemark.server.cli.image;

import io.tidemark.image.ImageFiles;
import io.tidemark.image.raw.RawCompactor;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ImageCompactor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "compact", mixinStandardHelpOptions = true,
        description = "Return unused space to the host: thin images shrink, raw files lose their all-zero blocks.")
final class CompactCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "the image file (thin or raw); it must not be in use")
    Path path;

    @Override
    public Integer call() throws IOException {
        long reclaimed = switch (ImageFiles.kindOf(path)) {
            case RAW -> compactRaw();
            case THIN -> compactThin();
        };
        spec.commandLine().getOut().println("compacted " + path + ": " + HumanSize.withBytes(reclaimed) + " reclaimed");
        return 0;
    }

    private long compactRaw() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(path, false);
                Progress progress = Progress.onTerminal(spec.commandLine().getErr(), "compacting", Progress.Unit.BYTES)) {
            return new RawCompactor(device).compact(progress.toward(device.size()));
        }
    }

    /** Returns how much shorter the file became. */
    private long compactThin() throws IOException {
        try (Progress progress = Progress.onTerminal(spec.commandLine().getErr(), "compacting", Progress.Unit.CLUSTERS)) {
            ImageCompactor.Result result = ImageCompactor.compact(path, progress::update);
            return Math.max(0, result.fileSizeBefore() - result.fileSizeAfter());
        }
    }
}
