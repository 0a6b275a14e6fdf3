package io.tidemark.server.cli;

import io.tidemark.image.ByteSize;
import io.tidemark.image.thin.ImageFormat;
import io.tidemark.image.thin.ThinImage;
import io.tidemark.server.nbd.ClientPolicy;
import io.tidemark.server.nbd.ListenAddress;
import io.tidemark.server.nbd.NbdServer;
import io.tidemark.threshold.ThresholdValue;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark demo}: creates a thin 1 GiB disk under {@code ./tidemark-demo/} (once), serves
 * it as {@code nbd://127.0.0.1:10809/demo} and prints commands to try it with.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Serve a thin 1 GiB demo disk as nbd://127.0.0.1:10809/demo and show how to connect.")
final class DemoCommand implements Callable<Integer> {

    static final String EXPORT = "demo";
    static final long SIZE = 1L << 30;
    /** Fires once the demo disk's image takes a tenth of its size; events go to stdout. */
    static final ThresholdValue THRESHOLD = ThresholdValue.parse("10%");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "tidemark-demo",
            description = "where the demo image lives (default ./tidemark-demo)")
    Path dir;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = ServeCommand.DEFAULT_LISTEN,
            description = "TCP address (default " + ServeCommand.DEFAULT_LISTEN + ")")
    String listen;

    @Option(names = "--control", paramLabel = "HOST:PORT",
            description = "control API address (default " + ThresholdOptions.DEFAULT_CONTROL + ")")
    String control;

    @Override
    public Integer call() throws Exception {
        Path image = dir.resolve("demo.img");
        boolean created = createIfAbsent(image);
        ExportSpec export = new ExportSpec(EXPORT, image, false, Optional.of(THRESHOLD), OptionalLong.empty());
        PrintWriter out = spec.commandLine().getOut();
        out.println((created ? "created " : "using ") + image + " (thin, " + ByteSize.format(SIZE) + ")");
        Serving serving = ServeCommand.startMonitored(List.of(export), List.of(ListenAddress.Tcp.parse(listen)),
                ClientPolicy.OPEN, ThresholdOptions.forDemo(dir.resolve("state"), control), out).stopOnSignal();
        NbdServer server = serving.server();
        printHowToConnect(out, server.addresses().getFirst().uri() + "/" + EXPORT,
                control == null ? "" : " --control " + control);
        server.awaitClosed();
        return 0;
    }

    /** Creates the demo disk unless it exists; true when it was created. */
    private static boolean createIfAbsent(Path image) throws IOException {
        if (Files.exists(image)) {
            return false;
        }
        Files.createDirectories(image.getParent());
        ThinImage.create(image, SIZE, ImageFormat.DEFAULT_CLUSTER_SIZE, false).close();
        return true;
    }

    private static void printHowToConnect(PrintWriter out, String uri, String controlOption) {
        out.println();
        out.println("Try it from another terminal:");
        out.println("  nbdinfo " + uri);
        out.println("  nbdinfo --map " + uri);
        out.println("  qemu-img info " + uri);
        out.println("  qemu-img convert -n -p -f raw -O raw YOUR-DISK.raw " + uri + "   # copy a raw disk in");
        out.println("  mkdir -p /tmp/tidemark-demo && nbdfuse /tmp/tidemark-demo/disk " + uri
                + " &   # then: ls -ls /tmp/tidemark-demo/disk");
        out.println("  tidemark threshold show " + EXPORT + controlOption + "   # the threshold at " + THRESHOLD + " of the disk");
        out.println("  tidemark events " + EXPORT + controlOption + "           # follow events; they are also printed here");
        out.println();
        out.println("Press Ctrl-C to stop; the image is kept for the next run.");
        out.flush();
    }
}
