package io.tidemark.server.cli.image;

import io.tidemark.image.ImageFiles;
import io.tidemark.image.AllocationListener;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "resize", mixinStandardHelpOptions = true,
        description = "Grow an image's virtual size; the new space reads as zeroes and takes no room.")
final class ResizeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "the image file (thin or raw); it must not be in use")
    Path path;

    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = SizeConverter.class,
            description = "the new virtual size, not smaller than the current one")
    long size;

    @Override
    public Integer call() throws IOException {
        switch (ImageFiles.kindOf(path)) {
            case RAW -> RawFileDevice.grow(path, size);
            case THIN -> {
                try (ThinImage image = ThinImage.open(path, false, AllocationListener.NONE)) {
                    image.resize(size);
                }
            }
        }
        spec.commandLine().getOut().println("resized " + path + " to " + HumanSize.withBytes(size));
        return 0;
    }
}
