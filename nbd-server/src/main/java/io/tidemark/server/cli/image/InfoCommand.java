package io.tidemark.server.cli.image;

import io.tidemark.image.ExtentType;
import io.tidemark.image.ExtentWalk;
import io.tidemark.image.ImageFiles;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ImageInfo;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show an image's virtual size, physical size, allocation, compression and clean flag.")
final class InfoCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "the image file (thin or raw)")
    Path path;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @CommandLine.Mixin
    ForceShare forceShare;

    @Override
    public Integer call() throws IOException {
        InfoReport info = switch (ImageFiles.kindOf(path)) {
            case RAW -> rawInfo();
            case THIN -> thinInfo();
        };
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonOutput.print(out, info);
        } else {
            printText(out, info);
        }
        return 0;
    }

    private InfoReport rawInfo() throws IOException {
        try (RawFileDevice device = forceShare.openRaw(path, true)) {
            long[] allocated = {0};
            ExtentWalk.walk(device, extent -> {
                if (extent.type() == ExtentType.DATA) {
                    allocated[0] += extent.length();
                }
            });
            return new InfoReport(path.toString(), FileFormat.RAW.label(), device.size(), device.size(),
                    device.usage(), allocated[0], null, null, null);
        }
    }

    private InfoReport thinInfo() throws IOException {
        ImageInfo info;
        try (ThinImage image = forceShare.openThin(path)) {
            info = image.info();
        }
        return new InfoReport(path.toString(), FileFormat.TIDEMARK.label(), info.virtualSize(), info.fileSize(),
                info.usage(), info.allocatedBytes(), info.clusterSize(), info.compressionRatio(), info.clean());
    }

    private static void printText(PrintWriter out, InfoReport info) {
        out.println("file:          " + info.filename());
        out.println("format:        " + info.format());
        out.println("virtual size:  " + HumanSize.withBytes(info.virtualSize()));
        out.println("physical size: " + HumanSize.withBytes(info.physicalSize()));
        out.println("usage:         " + HumanSize.withBytes(info.usage()));
        out.println("allocated:     " + HumanSize.withBytes(info.allocated()));
        if (info.clusterSize() != null) {
            out.println("cluster size:  " + HumanSize.withBytes(info.clusterSize()));
        }
        if (info.compressionRatio() != null) {
            out.println(String.format(Locale.ROOT, "compression:   %.2f : 1", info.compressionRatio()));
        }
        if (info.clean() != null) {
            out.println("clean:         " + (info.clean() ? "yes" : "no (not closed cleanly)"));
        }
    }
}
