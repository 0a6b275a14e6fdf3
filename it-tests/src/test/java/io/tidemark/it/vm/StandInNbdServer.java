package io.tidemark.it.vm;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** qemu-nbd serving one raw file: the reference server the VM harness is validated against. */
final class StandInNbdServer implements AutoCloseable {

    private final Process process;
    private final int port;

    private StandInNbdServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static StandInNbdServer serve(String export, Path image, Path log) throws IOException, InterruptedException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Process process = new ProcessBuilder("qemu-nbd", "--persistent", "--shared=4", "-f", "raw", "-x", export,
                "-b", "127.0.0.1", "-p", Integer.toString(port), image.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        for (int i = 0; i < 100; i++) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return new StandInNbdServer(process, port);
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("qemu-nbd did not listen on " + port);
    }

    int port() {
        return port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
