package io.tidemark.server.cli.image;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.ImageCopier;
import io.tidemark.image.ImageFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Copy an image into a new file of the given format; holes and zeroes stay sparse.")
final class ConvertCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "the image to read (thin or raw)")
    Path source;

    @Parameters(index = "1", paramLabel = "DST", description = "the file to create; it must not exist")
    Path target;

    @Option(names = "-O", paramLabel = "FORMAT", converter = FileFormat.Converter.class, defaultValue = "tidemark",
            description = "output format: tidemark (default) or raw")
    FileFormat format;

    @Mixin
    ThinImageOptions thin;

    @Override
    public Integer call() throws IOException {
        if (format == FileFormat.RAW && thin.given()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--cluster-size and --compress apply to tidemark output only, not raw");
        }
        try (BlockDevice input = ImageFiles.open(source, true, AllocationListener.NONE)) {
            long written = copyToNewTarget(input);
            spec.commandLine().getOut().println("converted " + source + " to " + target + ": " + format.label() + ", "
                    + HumanSize.withBytes(input.size()) + ", " + HumanSize.withBytes(written) + " of data written");
        }
        return 0;
    }

    /**
     * Creates the target, copies, and removes the target again if anything fails, including the
     * process being interrupted (Ctrl-C), so no half-written image is left looking like a copy.
     */
    private long copyToNewTarget(BlockDevice input) throws IOException {
        BlockDevice output = format.create(target, input.size(), thin.clusterSize(), thin.compress());
        Thread removeOnInterrupt = new Thread(this::removeTarget, "convert-cleanup");
        Runtime.getRuntime().addShutdownHook(removeOnInterrupt);
        boolean complete = false;
        try (output; Progress progress = Progress.onTerminal(spec.commandLine().getErr(), "converting", Progress.Unit.BYTES)) {
            long written = new ImageCopier(input, output).copy(progress.toward(input.size()));
            complete = true;
            return written;
        } finally {
            Runtime.getRuntime().removeShutdownHook(removeOnInterrupt);
            if (!complete) {
                removeTarget();
            }
        }
    }

    private void removeTarget() {
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            spec.commandLine().getErr().println("tidemark convert: could not remove the incomplete " + target + ": "
                    + e.getMessage());
        }
    }
}
