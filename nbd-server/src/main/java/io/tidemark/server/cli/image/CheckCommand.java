package io.tidemark.server.cli.image;

import io.tidemark.image.ImageFiles;
import io.tidemark.image.thin.CheckResult;
import io.tidemark.image.thin.ImageChecker;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check an image's metadata; exit 0 clean, 2 corrupt, 3 leaked space only.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:clean", "1:the check could not run", "2:corrupt", "3:leaked space only"})
final class CheckCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "the image file (thin or raw)")
    Path path;

    @Option(names = "--repair", description = "release leaked space and mark the image clean")
    boolean repair;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @CommandLine.Mixin
    ForceShare forceShare;

    @Override
    public Integer call() throws IOException {
        if (repair && forceShare.enabled) {
            // Exit 1 (the check could not run), not picocli's usage code 2, which means corrupt here.
            throw new IllegalArgumentException(
                    "--repair writes the image and needs its lock; it cannot be combined with --force-share");
        }
        CheckReport report = switch (ImageFiles.kindOf(path)) {
            case RAW -> rawCheck();
            case THIN -> thinCheck();
        };
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonOutput.print(out, report);
        } else {
            printText(out, report);
        }
        return report.exitCode();
    }

    /** A raw file has no metadata that could be wrong; opening it proves it is readable. */
    private CheckReport rawCheck() throws IOException {
        forceShare.openRaw(path, !repair).close();
        return CheckReport.ofRaw(path.toString());
    }

    private CheckReport thinCheck() throws IOException {
        if (repair) {
            return CheckReport.of(path.toString(), ImageChecker.repair(path));
        }
        try (Progress progress = Progress.onTerminal(spec.commandLine().getErr(), "checking", Progress.Unit.TABLES)) {
            return CheckReport.of(path.toString(), forceShare.requested(path)
                    ? ImageChecker.checkForceShare(path, progress::update)
                    : ImageChecker.check(path, progress::update));
        }
    }

    private static void printText(PrintWriter out, CheckReport report) {
        for (String repair : report.repairs()) {
            out.println("repaired: " + repair);
        }
        for (CheckReport.Problem corruption : report.corruptions()) {
            out.println("corrupt: " + corruption);
        }
        for (CheckReport.Problem leak : report.leaks()) {
            out.println("leak: " + leak);
        }
        String verdict = switch (report.exitCode()) {
            case CheckResult.EXIT_CLEAN -> "no errors found";
            case CheckResult.EXIT_CORRUPT -> report.corruptions().size() + " corruption(s) found";
            default -> report.leaks().size() + " leak(s) of " + HumanSize.withBytes(report.leakedBytes()) + " found";
        };
        out.println(report.filename() + " (" + report.format() + "): " + verdict);
    }
}
