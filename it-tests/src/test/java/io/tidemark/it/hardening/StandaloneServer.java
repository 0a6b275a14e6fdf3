package io.tidemark.it.hardening;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.ImageFiles;
import io.tidemark.server.nbd.ConnectionLimits;
import io.tidemark.server.nbd.Export;
import io.tidemark.server.nbd.ExportRegistry;
import io.tidemark.server.nbd.ListenAddress;
import io.tidemark.server.nbd.NbdServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The server process the fault tests start and kill: the same {@link NbdServer} that
 * {@code tidemark serve} runs, with exports opened by {@link ImageFiles#open}, started from the
 * test classes until {@code serve} is on main. Arguments: {@code HOST:PORT NAME=PATH...}; it
 * prints {@code listening URI} once it accepts connections, and shuts down gracefully on SIGTERM.
 */
public final class StandaloneServer {

    private StandaloneServer() {
    }

    public static void main(String[] args) throws Exception {
        ListenAddress listen = ListenAddress.Tcp.parse(args[0]);
        List<Export> exports = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String[] nameAndPath = args[i].split("=", 2);
            BlockDevice device = ImageFiles.open(Path.of(nameAndPath[1]), false, AllocationListener.NONE);
            exports.add(new Export(nameAndPath[0], "", device));
        }
        NbdServer server = NbdServer.start(new ExportRegistry(exports), List.of(listen), ConnectionLimits.DEFAULT,
                NbdServer.defaultDiskThreads());
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "shutdown"));
        System.out.println("listening " + server.addresses().getFirst().uri());
        System.out.flush();
        server.awaitClosed();
    }
}
