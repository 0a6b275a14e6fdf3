package io.tidemark.server.cli.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin
    ThinImageOptions thin;

    @Option(names = "-O", paramLabel = "FORMAT", converter = FileFormat.Converter.class, defaultValue = "tidemark",
            description = "tidemark (default) or raw")
    FileFormat format;

    @Override
    public Integer call() throws IOException {
        if (format == FileFormat.RAW && thin.given()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--cluster-size and --compress apply to tidemark images only, not raw");
        }
        format.create(path, size, thin.clusterSize(), thin.compress()).close();
        spec.commandLine().getOut().println(
                "created " + path + ": " + format.label() + ", " + HumanSize.withBytes(size));
        return 0;
    }
}
