package io.tidemark.server.cli.image;

import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.ExtentWalk;
import io.tidemark.image.ImageFiles;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "map", mixinStandardHelpOptions = true,
        description = "List an image's data, zero and hole extents (like qemu-img map).")
final class MapCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "the image file (thin or raw)")
    Path path;

    @Option(names = "--json", description = "print JSON in the shape of qemu-img map --output=json")
    boolean json;

    @CommandLine.Mixin
    ForceShare forceShare;

    @Override
    public Integer call() throws IOException {
        List<MapEntry> entries = switch (ImageFiles.kindOf(path)) {
            case RAW -> rawMap();
            case THIN -> thinMap();
        };
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonOutput.printLines(out, entries);
        } else {
            printText(out, entries);
        }
        return 0;
    }

    private List<MapEntry> rawMap() throws IOException {
        List<MapEntry> entries = new ArrayList<>();
        try (RawFileDevice device = forceShare.openRaw(path, true)) {
            ExtentWalk.walk(device, extent -> entries.add(MapEntry.ofRaw(extent)));
        }
        return entries;
    }

    private List<MapEntry> thinMap() throws IOException {
        List<MapEntry> entries = new ArrayList<>();
        try (ThinImage image = forceShare.openThin(path)) {
            ExtentWalk.walk(image, extent -> {
                if (extent.type() == ExtentType.DATA) {
                    addStoredRuns(image, extent, entries);
                } else {
                    entries.add(MapEntry.ofThin(extent, -1));
                }
            });
        }
        return entries;
    }

    /**
     * Splits a thin image's data extent where its clusters stop lying one after the other in the
     * file (or stop being stored plainly), as qemu-img map does, so each entry has one file offset.
     */
    private static void addStoredRuns(ThinImage image, Extent extent, List<MapEntry> entries) throws IOException {
        long cluster = image.clusterSize();
        long end = extent.offset() + extent.length();
        long runStart = extent.offset();
        long runFileOffset = image.fileOffset(runStart);
        long pos = runStart;
        while (pos < end) {
            long next = Math.min(end, (pos / cluster + 1) * cluster);
            if (next < end) {
                long at = image.fileOffset(next);
                long expected = runFileOffset < 0 ? -1 : runFileOffset + (next - runStart);
                if (at != expected) {
                    entries.add(MapEntry.ofThin(new Extent(runStart, next - runStart, ExtentType.DATA), runFileOffset));
                    runStart = next;
                    runFileOffset = at;
                }
            }
            pos = next;
        }
        entries.add(MapEntry.ofThin(new Extent(runStart, end - runStart, ExtentType.DATA), runFileOffset));
    }

    private static void printText(PrintWriter out, List<MapEntry> entries) {
        out.printf("%-20s %-20s %-5s %s%n", "start", "length", "type", "offset");
        for (MapEntry entry : entries) {
            out.printf("%-20d %-20d %-5s %s%n", entry.start(), entry.length(), entry.kind(),
                    entry.offset() == null ? "-" : entry.offset().toString());
        }
    }
}
