package io.tidemark.server.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What every command acting on one export of a running server takes, as a picocli mixin: the
 * control API options and the EXPORT, the first positional parameter.
 */
final class ExportTarget {

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Mixin
    ControlOptions control;

    @Parameters(index = "0", paramLabel = "EXPORT")
    String export;

    ControlClient client() {
        return control.client();
    }

    /** Where the command prints its result. */
    PrintWriter out() {
        return command.commandLine().getOut();
    }
}
