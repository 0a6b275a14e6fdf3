package io.tidemark.server.cli.image;

import io.tidemark.image.raw.RawFileDevice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = "Create an empty image: a thin image (default) or a sparse raw file.")
final class CreateCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "the file to create; it must not exist")
    Path path;

    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = SizeConverter.class,
            description = "virtual size, e.g. 10G")
    long size;

    @Option(names = "--cluster-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "thin images: allocation unit, a power of two from 4K to 2M (default 64K)")
    Long clusterSize;

    @Option(names = "--compress", paramLabel = "CODEC", converter = Compression.Converter.class,
            description = "thin images: store full clusters compressed with lz4 when that saves space")
    Compression compress;

    @Option(names = "-O", paramLabel = "FORMAT", converter = FileFormat.Converter.class, defaultValue = "tidemark",
            description = "tidemark (default) or raw")
    FileFormat format;

    @Override
    public Integer call() throws IOException {
        switch (format) {
            case RAW -> createRaw();
            case TIDEMARK -> throw new IOException(path + ": thin images are not supported yet");
        }
        spec.commandLine().getOut().println(
                "created " + path + ": " + format.label() + ", " + HumanSize.withBytes(size));
        return 0;
    }

    private void createRaw() throws IOException {
        if (clusterSize != null || compress != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--cluster-size and --compress apply to tidemark images only, not raw");
        }
        RawFileDevice.create(path, size).close();
    }
}
