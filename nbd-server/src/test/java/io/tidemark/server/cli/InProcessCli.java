package io.tidemark.server.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import picocli.CommandLine;

/** Runs {@code tidemark} commands in this JVM, keeping what the last one printed. */
public final class InProcessCli {

    private StringWriter out = new StringWriter();
    private StringWriter err = new StringWriter();

    /** Runs one command line (arguments turned into strings) and returns its exit code. */
    public int run(Object... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cli = TidemarkCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(Arrays.stream(args).map(String::valueOf).toArray(String[]::new));
    }

    /** What the last command printed on standard output. */
    public String out() {
        return out.toString();
    }

    /** What the last command printed on standard error. */
    public String err() {
        return err.toString();
    }
}
