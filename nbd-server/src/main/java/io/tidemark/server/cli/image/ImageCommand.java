package io.tidemark.server.cli.image;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tidemark image …}: offline tools for image files, thin or raw. */
@Command(
        name = "image",
        mixinStandardHelpOptions = true,
        description = "Create, inspect, check, map, convert, resize and compact image files.",
        subcommands = {
            CreateCommand.class,
            InfoCommand.class,
            CheckCommand.class,
            MapCommand.class,
            ConvertCommand.class,
            ResizeCommand.class,
            CompactCommand.class
        })
public final class ImageCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
