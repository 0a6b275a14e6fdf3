package io.tidemark.server.cli.image;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.ImageCopier;
import io.tidemark.image.ImageFiles;
import io.tidemark.image.raw.RawFileDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
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

    @Option(names = "--compress", paramLabel = "CODEC", converter = Compression.Converter.class,
            description = "tidemark output: store full clusters compressed with lz4 when that saves space")
    Compression compress;

    @Override
    public Integer call() throws IOException {
        if (compress != null && format == FileFormat.RAW) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--compress applies to tidemark output only");
        }
        try (BlockDevice input = ImageFiles.open(source, true, AllocationListener.NONE)) {
            long written = copyToNewTarget(input);
            spec.commandLine().getOut().println("converted " + source + " to " + target + ": " + format.label() + ", "
                    + HumanSize.withBytes(input.size()) + ", " + HumanSize.withBytes(written) + " of data written");
        }
        return 0;
    }

    /** Creates the target, copies, and removes the target again if anything fails. */
    private long copyToNewTarget(BlockDevice input) throws IOException {
        BlockDevice output = createTarget(input.size());
        boolean complete = false;
        try (output; Progress progress = Progress.onTerminal(spec.commandLine().getErr(), "converting", input.size())) {
            long written = new ImageCopier(input, output).copy(progress);
            complete = true;
            return written;
        } finally {
            if (!complete) {
                Files.deleteIfExists(target);
            }
        }
    }

    private BlockDevice createTarget(long size) throws IOException {
        return switch (format) {
            case RAW -> RawFileDevice.create(target, size);
            case TIDEMARK -> throw new IOException(target + ": thin images are not supported yet");
        };
    }
}
