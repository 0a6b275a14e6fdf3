package io.tidemark.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tidemark} command: the root of the command tree and the program's entry point. */
@Command(
        name = "tidemark",
        mixinStandardHelpOptions = true,
        versionProvider = TidemarkCommand.Version.class,
        description = "A userspace NBD server for thin-provisioned images, with high-water-mark events.",
        subcommands = {CommandLine.HelpCommand.class, io.tidemark.server.cli.image.ImageCommand.class,
            ServeCommand.class, DemoCommand.class,
            ThresholdCommand.class, QuotaCommand.class, EventsCommand.class})
public final class TidemarkCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by {@link #main} and tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new TidemarkCommand());
        cli.setExecutionExceptionHandler(new ErrorReporter());
        addHelpOptions(cli);
        return cli;
    }

    /** Every command, however deep, answers --help and --version the same way. */
    private static void addHelpOptions(CommandLine command) {
        for (CommandLine sub : command.getSubcommands().values()) {
            CommandLine.Model.CommandSpec spec = sub.getCommandSpec();
            if (spec.userObject() instanceof CommandLine.HelpCommand) {
                continue; // has its own --help
            }
            spec.mixinStandardHelpOptions(true);
            spec.versionProvider(new Version());
            addHelpOptions(sub);
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
        printTree(spec.commandLine(), "");
    }

    private void printTree(CommandLine command, String indent) {
        for (CommandLine sub : command.getSubcommands().values()) {
            if (sub.getCommandSpec().usageMessage().hidden()) {
                continue;
            }
            spec.commandLine().getOut().println(indent + "  " + sub.getCommandName());
            printTree(sub, indent + "  ");
        }
    }

    /** Reads the version Maven wrote into the jar. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"tidemark " + version()};
        }

        static String version() {
            try (InputStream in = TidemarkCommand.class.getResourceAsStream("/io/tidemark/server/version.properties")) {
                Properties props = new Properties();
                if (in != null) {
                    props.load(in);
                }
                return props.getProperty("version", "unknown");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Prints a failed command's message in one line; the stack trace only when debugging. */
    static final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            cli.getErr().println("tidemark " + cli.getCommandName() + ": " + describe(e));
            if (System.getenv("TIDEMARK_DEBUG") != null) {
                e.printStackTrace(cli.getErr());
            }
            return cli.getExitCodeExceptionMapper() != null
                    ? cli.getExitCodeExceptionMapper().getExitCode(e)
                    : 1;
        }

        private static String describe(Throwable e) {
            String message = e.getMessage();
            return message == null ? e.getClass().getSimpleName() : message;
        }
    }
}
